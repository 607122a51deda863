package dev.sieve.enforcer.datapath;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.BpfMap;
import dev.sieve.enforcer.libbpf.BpfObject;
import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.enforcer.libbpf.TcHook;
import dev.sieve.enforcer.maps.EndpointInfo;
import dev.sieve.enforcer.maps.IpPrefix;
import dev.sieve.enforcer.maps.MapLayouts;
import dev.sieve.enforcer.maps.MetricsKey;
import dev.sieve.enforcer.maps.MetricsValue;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.enforcer.policymap.PolicyKeyGenerator;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.enforcer.policymap.PolicyUpdatePlan;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The loaded Sieve datapath: the BPF object (built from bpf/sieve.bpf.c, shipped in this jar),
 * its maps pinned under {@code pinRoot/prefix/} (reused when already pinned, so enforcement
 * survives a restart), tc attachment to pods' host-side veths, and typed map programming.
 * Thread-safe; map writes are serialised.
 */
public final class Datapath implements AutoCloseable {
    public static final String OBJECT_RESOURCE = "/bpf/sieve.bpf.o";
    public static final String PROG_FROM_POD = "sieve_from_pod";
    public static final String PROG_TO_POD = "sieve_to_pod";
    public static final String PROG_FROM_HOST = "sieve_from_host";
    public static final List<String> MAPS = List.of(
            "sieve_ipcache", "sieve_policy", "sieve_endpoints_v2", "sieve_ep_array_v2", "sieve_lxc", "sieve_ct_v2", "sieve_metrics_v3", "sieve_drops", "sieve_config", "sieve_events");

    private static final Logger LOG = Logger.getLogger(Datapath.class.getName());

    private final DatapathConfig config;
    private final BpfObject object;
    private final BpfMap ipcache;
    private final BpfMap policy;
    private final BpfMap endpoints;
    /** Copy of the endpoints whose ifindex is below its size, which the programs read instead. */
    private final BpfMap endpointArray;
    private final int endpointArraySize;
    /** Local endpoints by address (ifindex and MACs), bpf delivery's receiver lookup; null in an object without it. */
    private final BpfMap lxc;
    private final BpfMap conntrack;
    private final BpfMap metrics;
    private final BpfMap drops;
    private final BpfMap configMap;
    private final BpfMap events;
    /** What sieve_config holds (written whole, so each setter keeps the other's value). */
    private AggregationLevel aggregation = AggregationLevel.MEDIUM;
    private LocalDelivery localDelivery = LocalDelivery.BPF;
    private final int fromPodFd;
    private final int toPodFd;
    private final Map<Integer, Boolean> createdClsact = new HashMap<>();

    private Datapath(DatapathConfig config, BpfObject object) {
        this.config = config;
        this.object = object;
        this.ipcache = object.map("sieve_ipcache");
        this.policy = object.map("sieve_policy");
        this.endpoints = object.map("sieve_endpoints_v2");
        this.endpointArray = object.map("sieve_ep_array_v2");
        this.endpointArraySize = endpointArray.maxEntries();
        this.lxc = object.hasMap("sieve_lxc") ? object.map("sieve_lxc") : null;
        this.conntrack = object.map("sieve_ct_v2");
        this.metrics = object.map("sieve_metrics_v3");
        this.drops = object.map("sieve_drops");
        this.configMap = object.map("sieve_config");
        this.events = object.map("sieve_events");
        this.fromPodFd = object.programFd(PROG_FROM_POD);
        this.toPodFd = object.programFd(PROG_TO_POD);
    }

    /** Loads the datapath object and creates or reuses its pinned maps. */
    public static Datapath open(DatapathConfig config) {
        return open(config, objectBytes());
    }

    /**
     * Loads the given build of the datapath object (benchmarks compare an earlier version's programs on the same
     * pinned maps; the maps it lacks are left alone) and creates or reuses its pinned maps.
     */
    public static Datapath open(DatapathConfig config, byte[] objectBytes) {
        LibBpf.ensureAvailable();
        ensureBpffs(config.pinRoot());
        Path dir = config.pinDir();
        boolean created = !Files.isDirectory(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new BpfException("cannot create pin directory " + dir + ": " + e.getMessage(), 0);
        }
        BpfObject obj = BpfObject.open("sieve.bpf.o", objectBytes);
        try {
            for (String m : MAPS) {
                if (obj.hasMap(m)) { // an earlier version's object (the benchmark's baseline) may lack a newer map
                    obj.map(m).setPinPath(dir.resolve(m).toString());
                }
            }
            obj.map("sieve_events").setMaxEntries(config.ringBufferBytes());
            size(obj, dir, "sieve_ct_v2", config.mapSizes().conntrack());
            size(obj, dir, "sieve_policy", config.mapSizes().policy());
            size(obj, dir, "sieve_ipcache", config.mapSizes().ipcache());
            size(obj, dir, "sieve_endpoints_v2", config.mapSizes().endpoints());
            if (obj.hasMap("sieve_lxc")) {
                size(obj, dir, "sieve_lxc", 2 * config.mapSizes().endpoints()); // an IPv4 and an IPv6 address each
            }
            obj.load();
            Datapath dp = new Datapath(config, obj);
            dp.configure(config.aggregation(), config.localDelivery());
            int carried = EndpointMigration.migrate(dir, dp.endpoints);
            if (carried > 0) {
                LOG.info("carried " + carried + " endpoints of the previous datapath version over (source check off until the next sync)");
            }
            dp.endpoints().forEach(dp::writeArraySlot); // pins of a version without the array, or a lost write
            int migrated = ConntrackMigration.migrate(dir, dp.conntrack);
            if (migrated > 0) {
                LOG.info("carried " + migrated + " conntrack entries of the previous datapath version over");
            }
            return dp;
        } catch (RuntimeException e) {
            obj.close();
            if (created) {
                try {
                    Files.deleteIfExists(dir); // only if still empty: a failed load leaves nothing behind
                } catch (IOException ignored) {
                    // not empty: something was pinned, unpinAll's business
                }
            }
            throw e;
        }
    }

    /**
     * Sets a map's capacity before load; a map already pinned keeps the capacity it was made with (libbpf reuses
     * a pin only when it matches; resizing would drop the enforcement state the pin carries), which is logged.
     */
    private static void size(BpfObject obj, Path dir, String name, int wanted) {
        BpfMap m = obj.map(name);
        Path pin = dir.resolve(name);
        if (Files.exists(pin)) {
            int keySize = m.keySize(), valueSize = m.valueSize();
            try (dev.sieve.enforcer.libbpf.PinnedMap pinned = dev.sieve.enforcer.libbpf.PinnedMap.open(pin)) {
                m.reuseFd(pinned.fd());
            }
            if (m.keySize() != keySize || m.valueSize() != valueSize) {
                throw new BpfException(pin + " has keys of " + m.keySize() + " and values of " + m.valueSize() + " bytes, this version "
                        + keySize + " and " + valueSize + ": a layout change needs a new map name", 0);
            }
            int have = m.maxEntries();
            if (have != wanted) {
                LOG.warning(name + " is pinned with " + have + " entries; " + wanted + " takes effect once " + pin
                        + " is removed (it keeps the node's enforcement state)");
            }
            return;
        }
        m.setMaxEntries(wanted);
    }

    /** The compiled BPF object from this jar. */
    public static byte[] objectBytes() {
        try (InputStream in = Datapath.class.getResourceAsStream(OBJECT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("BPF object " + OBJECT_RESOURCE + " is missing from the classpath (was bpf/ compiled?)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + OBJECT_RESOURCE, e);
        }
    }

    /** Mounts bpffs on /sys/fs/bpf if the pin root lies there and it is not mounted. */
    static void ensureBpffs(Path pinRoot) {
        Path bpffs = Path.of("/sys/fs/bpf");
        if (!pinRoot.toAbsolutePath().startsWith(bpffs)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals("/sys/fs/bpf") && f[2].equals("bpf")) {
                    return;
                }
            }
            Process p = new ProcessBuilder("mount", "-t", "bpf", "bpf", "/sys/fs/bpf").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new BpfException("mount -t bpf bpf /sys/fs/bpf failed: " + out.strip(), 0);
            }
        } catch (IOException e) {
            throw new BpfException("cannot check or mount bpffs: " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BpfException("interrupted mounting bpffs", 0);
        }
    }

    public DatapathConfig config() {
        return config;
    }

    public NetNs netns() {
        return config.netns();
    }

    // ---- interfaces ---------------------------------------------------------------------------

    public int ifindex(String ifname) {
        return config.netns().ifindex(ifname);
    }

    /** Whether an interface with this index exists in the datapath's namespace. */
    public boolean interfaceExists(int ifindex) {
        return config.netns().call(() -> {
            try {
                return java.net.NetworkInterface.getByIndex(ifindex) != null;
            } catch (java.net.SocketException e) {
                return true; // cannot tell: keep it
            }
        });
    }

    /** Attaches the programs to the host-side veth {@code ifname}: tc ingress = from pod, tc egress = to pod. */
    public synchronized int attach(String ifname) {
        int ifindex = ifindex(ifname);
        config.netns().run(() -> {
            boolean created = TcHook.createClsact(ifindex);
            createdClsact.putIfAbsent(ifindex, created);
            TcHook.attach(ifindex, LibBpf.BPF_TC_INGRESS, fromPodFd);
            TcHook.attach(ifindex, LibBpf.BPF_TC_EGRESS, toPodFd);
            ProxyRouting.acceptLocal(ifname);
        });
        return ifindex;
    }

    /**
     * Attaches the uplink program to tc ingress of {@code ifname}, a node interface that is not a pod's: it hands
     * replies from outside the node to the L7 proxy's upstream sockets. {@link #detach} removes it.
     */
    public synchronized int attachUplink(String ifname) {
        int ifindex = ifindex(ifname);
        int fd = object.programFd(PROG_FROM_HOST);
        config.netns().run(() -> {
            boolean created = TcHook.createClsact(ifindex);
            createdClsact.putIfAbsent(ifindex, created);
            TcHook.attach(ifindex, LibBpf.BPF_TC_INGRESS, fd);
        });
        return ifindex;
    }

    /** Removes Sieve's tc filters from {@code ifname} (and the clsact qdisc if Sieve created it). */
    public synchronized void detach(String ifname) {
        int ifindex = ifindex(ifname);
        config.netns().run(() -> {
            TcHook.detach(ifindex, LibBpf.BPF_TC_INGRESS);
            TcHook.detach(ifindex, LibBpf.BPF_TC_EGRESS);
            if (Boolean.TRUE.equals(createdClsact.remove(ifindex))) {
                TcHook.destroyClsact(ifindex);
            }
        });
    }

    /** Program ids attached to {@code ifname} as (ingress, egress); 0 when none. */
    public int[] attachedPrograms(String ifname) {
        int ifindex = ifindex(ifname);
        return config.netns().call(() -> new int[] {
            TcHook.query(ifindex, LibBpf.BPF_TC_INGRESS), TcHook.query(ifindex, LibBpf.BPF_TC_EGRESS)
        });
    }

    private static final Pattern ROUTE_DEV = Pattern.compile("\"dev\"\\s*:\\s*\"([^\"]+)\"");

    /** The interface the node routes {@code ip} through (ip -j route get), i.e. an endpoint's host-side veth. */
    public String interfaceFor(String ip) {
        IpPrefix.literal(ip, ip); // refuse anything but an address literal
        List<String> cmd = new ArrayList<>(List.of("ip"));
        if (!config.netns().isCurrent()) {
            cmd.addAll(List.of("-n", config.netns().name()));
        }
        cmd.addAll(List.of("-j", "route", "get", ip));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new BpfException(String.join(" ", cmd) + " failed: " + out.strip(), 0);
            }
            Matcher m = ROUTE_DEV.matcher(out);
            if (!m.find()) {
                throw new BpfException(String.join(" ", cmd) + ": no device in " + out.strip(), 0);
            }
            return m.group(1);
        } catch (IOException e) {
            throw new BpfException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BpfException("interrupted: " + String.join(" ", cmd), 0);
        }
    }

    // ---- endpoints ----------------------------------------------------------------------------

    /** Sets the endpoint behind host veth {@code ifindex}; keeps its policy revision if known. */
    public synchronized void setEndpoint(int ifindex, EndpointConfig ep) {
        var before = endpoint(ifindex);
        int revision = before.map(EndpointInfo::policyRevision).orElse(1);
        writeEndpoint(ifindex, new EndpointInfo(ep.endpointId(), ep.identity(), revision,
                ep.enforceIngress(), ep.enforceEgress(), ep.audit(), !ep.addresses().isEmpty(), ep.ipv4(), ep.ipv6(), false));
        syncLocalEndpoint(ifindex, before.orElse(null), ep);
    }

    /**
     * Where bpf delivery finds a local endpoint by its address: its host veth and MACs (sieve_lxc). The endpoint's
     * addresses are written when new or when what they hold is incomplete, its former addresses removed. A failed
     * write costs only the fast delivery (the stack delivers, the receiver's own program judges), so it is logged,
     * not raised.
     */
    private void syncLocalEndpoint(int ifindex, EndpointInfo before, EndpointConfig ep) {
        if (lxc == null) {
            return;
        }
        List<java.net.InetAddress> now = new ArrayList<>();
        if (ep.ipv4() != null) now.add(ep.ipv4());
        if (ep.ipv6() != null) now.add(ep.ipv6());
        try {
            if (before != null) {
                for (java.net.InetAddress old : java.util.Arrays.asList(before.ipv4(), before.ipv6())) {
                    if (old != null && !now.contains(old)) deleteLocalEndpoint(old, ifindex);
                }
            }
            byte[] nodeMac = null;
            for (java.net.InetAddress address : now) {
                LocalEndpoint have = localEndpoint(address).orElse(null);
                boolean same = have != null && have.ifindex() == ifindex;
                if (same && have.complete()) continue;
                if (nodeMac == null) nodeMac = interfaceMac(ifindex);
                byte[] podMac = same && LocalEndpoint.set(have.mac()) ? have.mac() : neighbourMac(address, ifindex);
                writeLocalEndpoint(address, new LocalEndpoint(ifindex, podMac, nodeMac));
            }
        } catch (RuntimeException e) {
            LOG.warning("local endpoint " + now + " at ifindex " + ifindex + ": " + e.getMessage()
                    + " (delivered through the host's stack meanwhile)");
        }
    }

    /**
     * A local endpoint as bpf delivery sees it: its host veth, the pod's MAC (zero until the host's neighbour table or
     * the pod's own packets tell it) and the host veth's MAC.
     */
    public record LocalEndpoint(int ifindex, byte[] mac, byte[] nodeMac) {
        private static final long MAC = MapLayouts.offset(MapLayouts.LXC_INFO, "mac");
        private static final long NODE_MAC = MapLayouts.offset(MapLayouts.LXC_INFO, "node_mac");

        public LocalEndpoint {
            mac = mac == null ? new byte[6] : mac.clone();
            nodeMac = nodeMac == null ? new byte[6] : nodeMac.clone();
        }

        /** Both MACs known: the datapath delivers to it. */
        public boolean complete() {
            return set(mac) && set(nodeMac);
        }

        static boolean set(byte[] mac) {
            for (byte b : mac) if (b != 0) return true;
            return false;
        }

        void write(MemorySegment v) {
            v.fill((byte) 0);
            v.set(ValueLayout.JAVA_INT, 0, ifindex);
            MemorySegment.copy(mac, 0, v, ValueLayout.JAVA_BYTE, MAC, 6);
            MemorySegment.copy(nodeMac, 0, v, ValueLayout.JAVA_BYTE, NODE_MAC, 6);
        }

        static LocalEndpoint read(MemorySegment v) {
            byte[] mac = new byte[6], nodeMac = new byte[6];
            MemorySegment.copy(v, ValueLayout.JAVA_BYTE, MAC, mac, 0, 6);
            MemorySegment.copy(v, ValueLayout.JAVA_BYTE, NODE_MAC, nodeMac, 0, 6);
            return new LocalEndpoint(v.get(ValueLayout.JAVA_INT, 0), mac, nodeMac);
        }
    }

    /** The sieve_lxc entry of a local endpoint's address (empty also in an object without the map). */
    public java.util.Optional<LocalEndpoint> localEndpoint(java.net.InetAddress address) {
        if (lxc == null) return java.util.Optional.empty();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = localEndpointKey(a, address);
            MemorySegment v = a.allocate(MapLayouts.LXC_INFO);
            return lxc.lookup(k, v) ? java.util.Optional.of(LocalEndpoint.read(v)) : java.util.Optional.empty();
        }
    }

    /** Overwrites the sieve_lxc entry of a local endpoint's address (tools and tests; the agent's is setEndpoint's). */
    public synchronized void writeLocalEndpoint(java.net.InetAddress address, LocalEndpoint entry) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(MapLayouts.LXC_INFO);
            entry.write(v);
            lxc.update(localEndpointKey(a, address), v, LibBpf.BPF_ANY);
        }
    }

    private void deleteLocalEndpoint(java.net.InetAddress address, int ifindex) {
        if (lxc == null) return;
        if (localEndpoint(address).map(e -> e.ifindex() == ifindex).orElse(false)) {
            try (Arena a = Arena.ofConfined()) {
                lxc.delete(localEndpointKey(a, address));
            }
        }
    }

    private static MemorySegment localEndpointKey(Arena a, java.net.InetAddress address) {
        MemorySegment k = a.allocate(MapLayouts.LXC_KEY);
        byte[] raw = address.getAddress();
        k.set(ValueLayout.JAVA_INT, 0, raw.length == 4 ? 4 : 6);
        MemorySegment.copy(raw, 0, k, ValueLayout.JAVA_BYTE, MapLayouts.offset(MapLayouts.LXC_KEY, "addr"), raw.length);
        return k;
    }

    private static final Pattern LINK_NAME = Pattern.compile("\"ifname\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern LINK_MAC = Pattern.compile("\"address\"\\s*:\\s*\"([0-9a-fA-F:]{17})\"");
    private static final Pattern NEIGH_LLADDR = Pattern.compile("\"lladdr\"\\s*:\\s*\"([0-9a-fA-F:]{17})\"");

    /** [name, MAC] of interface {@code ifindex} in the datapath's namespace (ip -j link; the JDK's interface list reads /proc/net of the process, not of the namespace), or null. */
    private String[] interfaceNameAndMac(int ifindex) {
        String out = ip("-j", "link", "show");
        if (out == null) return null;
        for (String link : out.split("\\{\"ifindex\"\\s*:\\s*")) {
            if (!link.startsWith(ifindex + ",")) continue;
            Matcher name = LINK_NAME.matcher(link);
            Matcher mac = LINK_MAC.matcher(link);
            return name.find() ? new String[] {name.group(1), mac.find() ? mac.group(1) : null} : null;
        }
        return null;
    }

    /** The MAC of interface {@code ifindex} of the datapath's namespace (null when it has none or is gone). */
    private byte[] interfaceMac(int ifindex) {
        String[] link = interfaceNameAndMac(ifindex);
        return link == null ? null : parseMac(link[1]);
    }

    /**
     * The pod's MAC as the host's neighbour table has it for {@code address} on the pod's host veth (a CNI writes it;
     * the lab does), or null when it is not resolved: the datapath then learns it from the pod's first packets.
     */
    private byte[] neighbourMac(java.net.InetAddress address, int ifindex) {
        String[] link = interfaceNameAndMac(ifindex);
        String out = link == null ? null : ip("-j", "neigh", "show", "to", address.getHostAddress(), "dev", link[0]);
        Matcher m = out == null ? null : NEIGH_LLADDR.matcher(out);
        return m != null && m.find() ? parseMac(m.group(1)) : null;
    }

    private static byte[] parseMac(String text) {
        if (text == null) return null;
        String[] parts = text.split(":");
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte) Integer.parseInt(parts[i], 16);
        return mac;
    }

    /** Output of the ip command in the datapath's namespace, or null when it failed. */
    private String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        if (!config.netns().isCurrent()) {
            cmd.addAll(List.of("-n", config.netns().name()));
        }
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Marks the endpoint behind {@code ifindex} as not fully programmed: the programs drop its every IP packet
     * (reason 203, DROP_EP_NOT_READY) until a later {@link #setEndpoint} succeeds. Written to the array slot the
     * programs read first, which never fills, then to the hash (which may be full). False when neither took it.
     */
    public synchronized boolean markNotReady(int ifindex, EndpointConfig ep) {
        int revision = endpoint(ifindex).map(EndpointInfo::policyRevision).orElse(1);
        EndpointInfo info = new EndpointInfo(ep.endpointId(), ep.identity(), revision + 1,
                ep.enforceIngress(), ep.enforceEgress(), ep.audit(), !ep.addresses().isEmpty(), ep.ipv4(), ep.ipv6(), true);
        boolean written = false;
        if (inArray(ifindex)) {
            writeArraySlot(ifindex, info);
            written = true;
        }
        try {
            writeEndpointHash(ifindex, info);
            written = true;
        } catch (BpfException e) {
            if (!written) throw e;
        }
        return written;
    }

    public java.util.Optional<EndpointInfo> endpoint(int ifindex) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, ifindex);
            MemorySegment v = a.allocate(MapLayouts.ENDPOINT_INFO);
            return endpoints.lookup(k, v) ? java.util.Optional.of(EndpointInfo.read(v)) : java.util.Optional.empty();
        }
    }

    /** All endpoints by ifindex. */
    public Map<Integer, EndpointInfo> endpoints() {
        Map<Integer, EndpointInfo> result = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(MapLayouts.ENDPOINT_INFO);
            endpoints.forEachKey(a, k -> {
                if (endpoints.lookup(k, v)) {
                    result.put(k.get(ValueLayout.JAVA_INT, 0), EndpointInfo.read(v));
                }
            });
        }
        return result;
    }

    /** Forgets the endpoint behind {@code ifindex}: its config, policy keys and conntrack entries. */
    public synchronized void removeEndpoint(int ifindex) {
        var info = endpoint(ifindex);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, ifindex);
            if (inArray(ifindex)) {
                endpointArray.update(k, a.allocate(MapLayouts.ENDPOINT_INFO), LibBpf.BPF_ANY); // present = 0
            }
            endpoints.delete(k);
        }
        info.ifPresent(i -> {
            for (java.net.InetAddress address : java.util.Arrays.asList(i.ipv4(), i.ipv6())) {
                if (address != null) deleteLocalEndpoint(address, ifindex);
            }
            applyPolicy(i.endpointId(), List.of());
            flushConntrack(i.endpointId());
        });
    }

    private void writeEndpoint(int ifindex, EndpointInfo info) {
        writeEndpointHash(ifindex, info);
        writeArraySlot(ifindex, info);
    }

    private void writeEndpointHash(int ifindex, EndpointInfo info) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, ifindex);
            MemorySegment v = a.allocate(MapLayouts.ENDPOINT_INFO);
            info.write(v);
            endpoints.update(k, v, LibBpf.BPF_ANY);
        }
    }

    /**
     * The array copy of an endpoint the programs read, for ifindexes it covers. The slot is
     * overwritten in place, not swapped: a packet judged meanwhile may see some fields new and
     * some old, as if it came a moment earlier or later.
     */
    private void writeArraySlot(int ifindex, EndpointInfo info) {
        if (!inArray(ifindex)) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            k.set(ValueLayout.JAVA_INT, 0, ifindex);
            MemorySegment v = a.allocate(MapLayouts.ENDPOINT_INFO);
            info.write(v);
            endpointArray.update(k, v, LibBpf.BPF_ANY);
        }
    }

    private boolean inArray(int ifindex) {
        return ifindex >= 0 && ifindex < endpointArraySize;
    }

    // ---- ipcache ------------------------------------------------------------------------------

    public synchronized void upsertIpcache(String prefix, int identity) {
        IpPrefix p = IpPrefix.parse(prefix);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(MapLayouts.IPCACHE_KEY);
            p.writeIpcacheKey(k);
            MemorySegment v = a.allocate(MapLayouts.IPCACHE_VALUE);
            v.set(ValueLayout.JAVA_INT, 0, identity);
            ipcache.update(k, v, LibBpf.BPF_ANY);
        }
    }

    public synchronized boolean deleteIpcache(String prefix) {
        IpPrefix p = IpPrefix.parse(prefix);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(MapLayouts.IPCACHE_KEY);
            p.writeIpcacheKey(k);
            return ipcache.delete(k);
        }
    }

    public Map<IpPrefix, Integer> ipcache() {
        Map<IpPrefix, Integer> result = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(MapLayouts.IPCACHE_VALUE);
            ipcache.forEachKey(a, k -> {
                if (ipcache.lookup(k, v)) {
                    result.put(IpPrefix.readIpcacheKey(k), v.get(ValueLayout.JAVA_INT, 0));
                }
            });
        }
        return result;
    }

    // ---- policy -------------------------------------------------------------------------------

    /** The endpoint ids that have keys in the policy map (one walk of the map). */
    public java.util.Set<Integer> policyEndpointIds() {
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        try (Arena a = Arena.ofConfined()) {
            policy.forEachKey(a, k -> ids.add(PolicyKey.endpointIdOf(k)));
        }
        return ids;
    }

    /** The policy keys of one endpoint as they are in the map now. */
    public Map<PolicyKey, PolicyValue> policyKeys(int endpointId) {
        Map<PolicyKey, PolicyValue> result = new HashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(MapLayouts.POLICY_VALUE);
            policy.forEachKey(a, k -> {
                if (PolicyKey.endpointIdOf(k) == endpointId && policy.lookup(k, v)) {
                    result.put(PolicyKey.read(k), PolicyValue.read(v));
                }
            });
        }
        return result;
    }

    /**
     * Makes the endpoint's policy map content equal to what {@code desired} generates, in the
     * safe order of {@link PolicyUpdatePlan}, then bumps the endpoint's policy revision so
     * established connections are re-checked against the new policy.
     */
    public synchronized PolicyUpdatePlan applyPolicy(int endpointId, List<PolicyMapEntry> desired) {
        Map<PolicyKey, PolicyValue> want = PolicyKeyGenerator.generate(endpointId, desired);
        return applyPolicyPlan(endpointId, PolicyUpdatePlan.between(policyKeys(endpointId), want));
    }

    /**
     * Writes a plan the caller computed against what it knows the endpoint's keys to be (the incremental sync of
     * one peer identity's keys, without reading the whole policy map), in the plan's safe order, then bumps the
     * endpoint's policy revision as {@link #applyPolicy} does.
     */
    public synchronized PolicyUpdatePlan applyPolicyPlan(int endpointId, PolicyUpdatePlan plan) {
        if (plan.isEmpty()) {
            return plan;
        }
        writePlan(plan);
        endpoints().forEach((ifindex, info) -> {
            if (info.endpointId() == endpointId) {
                writeEndpoint(ifindex, info.withRevision(info.policyRevision() + 1));
            }
        });
        return plan;
    }

    /**
     * As {@link #applyPolicyPlan} for the endpoint of interface {@code ifindex} whose endpoint id is that ifindex (the
     * agent's endpoints): its revision is read with one lookup instead of a walk of the endpoint map (the incremental
     * sync of learned addresses, once per DNS answer that teaches something).
     */
    public synchronized PolicyUpdatePlan applyPolicyPlanOfInterface(int ifindex, PolicyUpdatePlan plan) {
        if (plan.isEmpty()) {
            return plan;
        }
        writePlan(plan);
        endpoint(ifindex).filter(info -> info.endpointId() == ifindex)
                .ifPresent(info -> writeEndpoint(ifindex, info.withRevision(info.policyRevision() + 1)));
        return plan;
    }

    private void writePlan(PolicyUpdatePlan plan) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(MapLayouts.POLICY_KEY);
            MemorySegment v = a.allocate(MapLayouts.POLICY_VALUE);
            plan.upsertDeny().forEach((key, value) -> put(k, v, key, value));
            plan.deleteAllow().forEach(key -> remove(k, key));
            plan.upsertAllow().forEach((key, value) -> put(k, v, key, value));
            plan.deleteDeny().forEach(key -> remove(k, key));
        }
    }

    private void put(MemorySegment k, MemorySegment v, PolicyKey key, PolicyValue value) {
        key.write(k);
        value.write(v);
        policy.update(k, v, LibBpf.BPF_ANY);
    }

    private void remove(MemorySegment k, PolicyKey key) {
        key.write(k);
        policy.delete(k);
    }

    // ---- conntrack, metrics, config, events ---------------------------------------------------

    /** Number of conntrack entries (all endpoints when {@code endpointId} is 0). */
    public int conntrackEntries(int endpointId) {
        int[] n = {0};
        try (Arena a = Arena.ofConfined()) {
            conntrack.forEachKey(a, k -> {
                if (endpointId == 0 || k.get(ValueLayout.JAVA_INT, 36) == endpointId) {
                    n[0]++;
                }
            });
        }
        return n[0];
    }

    /** Deletes conntrack entries of one endpoint (all when 0). */
    public synchronized int flushConntrack(int endpointId) {
        List<MemorySegment> doomed = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            conntrack.forEachKey(a, k -> {
                if (endpointId == 0 || k.get(ValueLayout.JAVA_INT, 36) == endpointId) {
                    doomed.add(k);
                }
            });
            doomed.forEach(conntrack::delete);
        }
        return doomed.size();
    }

    /** Names of the maps that fill with the cluster (conntrack, policy, ipcache, endpoints) and their capacities. */
    public Map<String, Integer> mapCapacities() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (BpfMap m : List.of(conntrack, policy, ipcache, endpoints)) out.put(m.name(), m.maxEntries());
        return out;
    }

    /**
     * How full each of those maps is: entries / capacity, 0..1, counted by walking the keys (Cilium's
     * {@code cilium_bpf_map_pressure}). A full walk of a large conntrack takes a while: call it seldom.
     */
    public Map<String, Double> mapPressure() {
        Map<String, Double> out = new LinkedHashMap<>();
        for (BpfMap m : List.of(conntrack, policy, ipcache, endpoints)) {
            int[] n = {0};
            try (Arena a = Arena.ofConfined()) {
                m.forEachKey(a, k -> n[0]++);
            }
            out.put(m.name(), (double) n[0] / m.maxEntries());
        }
        return out;
    }

    /** Packet and byte counters by (verdict, direction, drop reason), summed over CPUs; counters never hit are left out. */
    public Map<MetricsKey, MetricsValue> metrics() {
        Map<MetricsKey, MetricsValue> result = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment v = a.allocate(16L * LibBpf.numPossibleCpus(), 8);
            for (int slot = 0; slot < MetricsKey.SLOTS; slot++) {
                MetricsKey key = MetricsKey.ofSlot(slot);
                MetricsValue c = key == null ? null : counter(slot, k, v);
                if (c != null && c.packets() != 0) {
                    result.put(key, c);
                }
            }
        }
        return result;
    }

    /**
     * Every packet the datapath dropped, by (drop reason, L4 protocol), summed over CPUs since the maps were made:
     * exact whether or not a verdict event reported it (hubble_drop_total). Counters never hit are left out.
     */
    public Map<dev.sieve.enforcer.maps.DropKey, MetricsValue> drops() {
        Map<dev.sieve.enforcer.maps.DropKey, MetricsValue> result = new LinkedHashMap<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment v = a.allocate(16L * LibBpf.numPossibleCpus(), 8);
            for (int slot = 0; slot < dev.sieve.enforcer.maps.DropKey.SLOTS; slot++) {
                var key = dev.sieve.enforcer.maps.DropKey.ofSlot(slot);
                MetricsValue c = key == null ? null : counter(drops, slot, k, v);
                if (c != null && c.packets() != 0) {
                    result.put(key, c);
                }
            }
        }
        return result;
    }

    /** One counter of the per-CPU metrics array, summed over CPUs, read through k and v; null when the slot cannot be read. */
    private MetricsValue counter(int slot, MemorySegment k, MemorySegment v) {
        return counter(metrics, slot, k, v);
    }

    private static MetricsValue counter(BpfMap map, int slot, MemorySegment k, MemorySegment v) {
        k.set(ValueLayout.JAVA_INT, 0, slot);
        if (!map.lookup(k, v)) {
            return null;
        }
        long packets = 0;
        long bytes = 0;
        for (long off = 0; off < v.byteSize(); off += 16) {
            packets += v.get(ValueLayout.JAVA_LONG, off);
            bytes += v.get(ValueLayout.JAVA_LONG, off + 8);
        }
        return new MetricsValue(packets, bytes);
    }

    /** Verdict events the datapath could not report because the ring buffer was full, since the maps were made (one map read). */
    public long lostEvents() {
        try (Arena a = Arena.ofConfined()) {
            MetricsValue v = counter(MetricsKey.LOST_EVENTS.slot(), a.allocate(ValueLayout.JAVA_INT),
                    a.allocate(16L * LibBpf.numPossibleCpus(), 8));
            return v == null ? 0 : v.packets();
        }
    }

    /** Drop events the datapath did not report, rate-limited per connection (their packets are still counted). */
    public long suppressedDropEvents() {
        try (Arena a = Arena.ofConfined()) {
            MetricsValue v = counter(MetricsKey.SUPPRESSED_DROP_EVENTS.slot(), a.allocate(ValueLayout.JAVA_INT),
                    a.allocate(16L * LibBpf.numPossibleCpus(), 8));
            return v == null ? 0 : v.packets();
        }
    }

    public synchronized void setAggregation(AggregationLevel level) {
        configure(level, localDelivery);
    }

    /** Switches same-node delivery; packets already in flight finish the way they started. */
    public synchronized void setLocalDelivery(LocalDelivery delivery) {
        configure(aggregation, delivery);
    }

    private synchronized void configure(AggregationLevel level, LocalDelivery delivery) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(ValueLayout.JAVA_INT);
            MemorySegment v = a.allocate(MapLayouts.CONFIG_VALUE);
            v.set(ValueLayout.JAVA_INT, MapLayouts.CONFIG_VALUE.byteOffset(groupElement("aggregation")), level.ordinal());
            v.set(ValueLayout.JAVA_INT, MapLayouts.CONFIG_VALUE.byteOffset(groupElement("flags")), delivery.configFlags());
            configMap.update(k, v, LibBpf.BPF_ANY);
        }
        aggregation = level;
        localDelivery = delivery;
    }

    /** A reader of the verdict event ring buffer; poll it from one thread. */
    public VerdictEventReader openEventReader(VerdictEventReader.Handler handler) {
        return new VerdictEventReader(events.fd(), handler);
    }

    /** The underlying object, for tools and tests (program fds, raw maps). */
    public BpfObject object() {
        return object;
    }

    public int programFd(String name) {
        return object.programFd(name);
    }

    /** Closes the object's fds; pinned maps and attached programs stay. */
    @Override
    public synchronized void close() {
        object.close();
    }

    /** Removes the pinned maps of this datapath and its state directory (call after detaching everywhere). */
    public static void unpinAll(DatapathConfig config) {
        try (var files = Files.list(config.stateDir())) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(config.stateDir());
        } catch (java.io.IOException | RuntimeException e) {
            // none, or not ours to remove
        }
        Path dir = config.pinDir();
        try {
            if (Files.isDirectory(dir)) {
                try (var s = Files.list(dir)) {
                    for (Path p : s.toList()) {
                        Files.deleteIfExists(p);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new BpfException("cannot remove pinned maps in " + dir + ": " + e.getMessage(), 0);
        }
    }
}
