package dev.sieve.lab;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A local cluster of one node on this machine. The node is a network namespace
 * ({@code sieve-<prefix>-node}) that routes between pods like a CNI-managed host: each pod is a
 * namespace joined to the node by a veth pair, with /32 and /128 addresses, a node-side route
 * per pod and a pod default route through the link-local gateway 169.254.1.1 / fe80::1
 * (static neighbours both ways, proxy ARP as a fallback). External hosts ("world") are
 * namespaces attached the same way, with addresses outside the pod range.
 *
 * <p>Everything is named with the lab's prefix and removed on {@link #close()}, by a shutdown
 * hook if the JVM exits first, and by {@link #create(String)} if a previous run with the same
 * prefix left something behind. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN).
 */
public final class Lab implements AutoCloseable {
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]{1,8}");
    private static final Pattern POD_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,19}");
    private static final String NS_PREFIX = "sieve-";

    /** Pod addresses handed out by {@link #addPod(String)}. */
    public static final String POD_CIDR_V4 = "10.77.0.0/16";
    public static final String POD_CIDR_V6 = "fd00:77::/96";
    /** Address of the node itself (on its loopback). */
    public static final String NODE_IPV4 = "10.77.255.254";
    public static final String NODE_IPV6 = "fd00:77::fffe";
    /** Addresses handed out by {@link #addExternal(String)}: outside the pod range. */
    public static final String WORLD_CIDR_V4 = "198.51.100.0/24";
    public static final String WORLD_CIDR_V6 = "2001:db8:51::/64";

    private static final String GATEWAY_V4 = "169.254.1.1";
    private static final String GATEWAY_V6 = "fe80::1";

    private final String prefix;
    private final String nodeNamespace;
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final List<String> namespaces = new ArrayList<>();
    private final List<BackgroundProcess> processes = Collections.synchronizedList(new ArrayList<>());
    private final Thread shutdownHook;
    private int nextPod = 1;
    private int nextExternal = 1;
    private int nextLink = 0;
    private boolean closed;

    private Lab(String prefix) {
        this.prefix = prefix;
        this.nodeNamespace = NS_PREFIX + prefix + "-node";
        this.shutdownHook = new Thread(this::cleanup, "sieve-lab-" + prefix + "-cleanup");
    }

    /** Creates a lab named {@code prefix} (1..8 of [a-z0-9]); removes leftovers of that prefix first. */
    public static Lab create(String prefix) {
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("lab prefix must match " + PREFIX + ": '" + prefix + "'");
        }
        reapStale();
        cleanupLeftovers(prefix);
        claim(prefix);
        Lab lab = new Lab(prefix);
        Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
        try {
            lab.setUpNode();
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    /** Creates a lab with a random prefix. */
    public static Lab create() {
        return create(randomPrefix());
    }

    public static String randomPrefix() {
        SecureRandom r = new SecureRandom();
        StringBuilder sb = new StringBuilder("l");
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        for (int i = 0; i < 5; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** True when this process may create namespaces (root); tests use it to skip otherwise. */
    public static boolean canRun() {
        try {
            return "0".equals(Shell.run("id", "-u").stdout().strip()) && Shell.run("ip", "netns", "list").ok();
        } catch (LabException e) {
            return false;
        }
    }

    public String prefix() {
        return prefix;
    }

    /** The namespace that plays the node (host) network namespace. */
    public String nodeNamespace() {
        return nodeNamespace;
    }

    public List<Pod> pods() {
        return List.copyOf(pods.values());
    }

    public Optional<Pod> pod(String name) {
        return Optional.ofNullable(pods.get(name));
    }

    /** Adds a pod with the next free addresses of {@link #POD_CIDR_V4} / {@link #POD_CIDR_V6}. */
    public synchronized Pod addPod(String name) {
        int n = nextPod++;
        return addPod(name, "10.77." + (n >> 8) + "." + (n & 0xff), "fd00:77::" + Integer.toHexString(n));
    }

    /** Adds a pod with the given IPv4 address and optional IPv6 address (null for none). */
    public synchronized Pod addPod(String name, String ipv4, String ipv6) {
        return attach(name, ipv4, ipv6, "p");
    }

    /** Adds an external host (a "world" peer) with the next address of {@link #WORLD_CIDR_V4}. */
    public synchronized Pod addExternal(String name) {
        int n = nextExternal++;
        return attach(name, "198.51.100." + n, "2001:db8:51::" + Integer.toHexString(n), "w");
    }

    /** Adds an external host (a "world" peer) with the given addresses (ipv6 may be null). */
    public synchronized Pod addExternal(String name, String ipv4, String ipv6) {
        return attach(name, ipv4, ipv6, "w");
    }

    /** True when {@code name} is an external host rather than a pod. */
    public boolean isExternal(String name) {
        Pod p = pods.get(name);
        return p != null && p.hostInterface().startsWith(prefix + "w");
    }

    /** Runs a command in the node namespace. */
    public ExecResult execNode(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", nodeNamespace));
        full.addAll(List.of(cmd));
        return Shell.run(Shell.DEFAULT_TIMEOUT, null, full);
    }

    void track(BackgroundProcess p) {
        processes.add(p);
    }

    private void setUpNode() {
        addNamespace(nodeNamespace);
        Shell.ipBatch(nodeNamespace, List.of(
                "link set lo up",
                "addr add " + NODE_IPV4 + "/32 dev lo",
                "addr add " + NODE_IPV6 + "/128 dev lo"));
        execNode("sysctl", "-qw",
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
                "net.ipv6.conf.default.accept_dad=0")
                .orThrow("sysctl in " + nodeNamespace);
    }

    private Pod attach(String name, String ipv4, String ipv6, String kind) {
        ensureOpen();
        if (!POD_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("pod name must match " + POD_NAME + ": '" + name + "'");
        }
        if (pods.containsKey(name) || name.equals("node")) {
            throw new IllegalArgumentException("pod '" + name + "' exists in lab " + prefix);
        }
        int link = nextLink++;
        String ns = NS_PREFIX + prefix + "-" + name;
        String hostIf = prefix + kind + link; // <= 8 + 1 + 4 < IFNAMSIZ
        String hostMac = mac(0x0a, link);
        String podMac = mac(0x0b, link);
        addNamespace(ns);
        List<String> node = new ArrayList<>(List.of(
                "link add " + hostIf + " address " + hostMac + " type veth peer name eth0 address " + podMac + " netns " + ns,
                "link set " + hostIf + " up",
                "route add " + ipv4 + "/32 dev " + hostIf + " scope link",
                "neigh replace " + ipv4 + " lladdr " + podMac + " dev " + hostIf + " nud permanent"));
        List<String> pod = new ArrayList<>(List.of(
                "link set lo up",
                "addr add " + ipv4 + "/32 dev eth0",
                "link set eth0 up",
                "route add " + GATEWAY_V4 + " dev eth0 scope link",
                "route add default via " + GATEWAY_V4 + " dev eth0",
                "neigh replace " + GATEWAY_V4 + " lladdr " + hostMac + " dev eth0 nud permanent"));
        if (ipv6 != null) {
            node.add("addr add " + GATEWAY_V6 + "/64 dev " + hostIf + " nodad");
            node.add("route add " + ipv6 + "/128 dev " + hostIf);
            node.add("neigh replace " + ipv6 + " lladdr " + podMac + " dev " + hostIf + " nud permanent");
            pod.add("addr add " + ipv6 + "/128 dev eth0 nodad");
            pod.add("route add ::/0 via " + GATEWAY_V6 + " dev eth0");
            pod.add("neigh replace " + GATEWAY_V6 + " lladdr " + hostMac + " dev eth0 nud permanent");
        }
        Shell.ipBatch(nodeNamespace, node);
        Shell.ipBatch(ns, pod);
        execNode("sysctl", "-qw", "net.ipv4.conf." + hostIf + ".proxy_arp=1").orThrow("proxy_arp on " + hostIf);
        Pod p = new Pod(this, name, ns, ipv4, ipv6, hostIf);
        pods.put(name, p);
        return p;
    }

    private void addNamespace(String ns) {
        Shell.checked("ip", "netns", "add", ns);
        namespaces.add(ns);
    }

    private static String mac(int kind, int link) {
        return String.format(Locale.ROOT, "02:5e:%02x:%02x:%02x:%02x", kind, (link >> 16) & 0xff, (link >> 8) & 0xff, link & 0xff);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("lab " + prefix + " is closed");
        }
    }

    /** Kills the lab's processes and deletes its namespaces (and with them every veth and tc filter). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cleanup();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down; the hook runs anyway
        }
    }

    private void cleanup() {
        synchronized (processes) {
            for (BackgroundProcess p : processes) {
                p.close();
            }
            processes.clear();
        }
        cleanupLeftovers(prefix);
        release(prefix);
    }

    private static final java.nio.file.Path OWNERS = java.nio.file.Path.of("/run/sieve-lab");
    private static final java.nio.file.Path BPF_PINS = java.nio.file.Path.of("/sys/fs/bpf/sieve");

    /**
     * Records that this JVM owns {@code prefix} (a file {@code /run/sieve-lab/<prefix>} holding
     * the pid), so a later run can clean up after a JVM that was killed before its hooks ran.
     */
    public static void claim(String prefix) {
        try {
            java.nio.file.Files.createDirectories(OWNERS);
            java.nio.file.Files.writeString(OWNERS.resolve(prefix), Long.toString(ProcessHandle.current().pid()));
        } catch (java.io.IOException e) {
            throw new LabException("cannot record ownership of lab prefix " + prefix + " in " + OWNERS + ": " + e.getMessage(), e);
        }
    }

    /** A fresh random prefix claimed by this JVM (for tests that pin maps without a lab). */
    public static String claimRandomPrefix() {
        reapStale();
        String p = randomPrefix();
        claim(p);
        return p;
    }

    /** Labs of this machine whose owning process is alive: prefix -> owner pid. */
    public static Map<String, Long> liveLabs() {
        Map<String, Long> result = new java.util.TreeMap<>();
        if (!java.nio.file.Files.isDirectory(OWNERS)) {
            return result;
        }
        try (var files = java.nio.file.Files.list(OWNERS)) {
            for (java.nio.file.Path f : files.toList()) {
                try {
                    long pid = Long.parseLong(java.nio.file.Files.readString(f).strip());
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        result.put(f.getFileName().toString(), pid);
                    }
                } catch (NumberFormatException | java.io.IOException ignored) {
                    // not a claim
                }
            }
        } catch (java.io.IOException e) {
            throw new LabException("cannot scan " + OWNERS + ": " + e.getMessage(), e);
        }
        return result;
    }

    /**
     * Removes lab {@code prefix} from outside its process: asks the owning process (if alive) to
     * end, which runs its cleanup, then removes whatever is left (namespaces, pins, the claim).
     * Returns true when there was something to remove.
     */
    public static boolean destroy(String prefix) {
        boolean found = false;
        Long owner = liveLabs().get(prefix);
        if (owner != null && owner != ProcessHandle.current().pid()) {
            found = true;
            ProcessHandle.of(owner).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    // removed below anyway
                }
            });
        }
        found |= !namespacesOf(prefix).isEmpty();
        cleanupLeftovers(prefix);
        try {
            removePins(prefix);
        } catch (java.io.IOException e) {
            throw new LabException("cannot remove pinned maps of " + prefix + ": " + e.getMessage(), e);
        }
        release(prefix);
        return found;
    }

    /** Drops this JVM's claim on {@code prefix}. */
    public static void release(String prefix) {
        try {
            java.nio.file.Files.deleteIfExists(OWNERS.resolve(prefix));
        } catch (java.io.IOException ignored) {
            // best effort
        }
    }

    /**
     * Cleans up after labs whose JVM is gone: their namespaces, and BPF pin directories named
     * {@code /sys/fs/bpf/sieve/<anything>-<prefix>} (datapath tests pin maps that way).
     */
    public static void reapStale() {
        if (!java.nio.file.Files.isDirectory(OWNERS)) {
            return;
        }
        try (var files = java.nio.file.Files.list(OWNERS)) {
            for (java.nio.file.Path f : files.toList()) {
                long pid;
                try {
                    pid = Long.parseLong(java.nio.file.Files.readString(f).strip());
                } catch (NumberFormatException | java.io.IOException e) {
                    pid = -1;
                }
                if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                String prefix = f.getFileName().toString();
                cleanupLeftovers(prefix);
                removePins(prefix);
                java.nio.file.Files.deleteIfExists(f);
            }
        } catch (java.io.IOException e) {
            throw new LabException("cannot scan " + OWNERS + ": " + e.getMessage(), e);
        }
    }

    private static void removePins(String prefix) throws java.io.IOException {
        if (!java.nio.file.Files.isDirectory(BPF_PINS)) {
            return;
        }
        try (var dirs = java.nio.file.Files.list(BPF_PINS)) {
            for (java.nio.file.Path d : dirs.toList()) {
                if (d.getFileName().toString().endsWith("-" + prefix) && java.nio.file.Files.isDirectory(d)) {
                    try (var pins = java.nio.file.Files.list(d)) {
                        for (java.nio.file.Path p : pins.toList()) {
                            java.nio.file.Files.deleteIfExists(p);
                        }
                    }
                    java.nio.file.Files.deleteIfExists(d);
                }
            }
        }
    }

    /** Removes every namespace named {@code sieve-<prefix>-*} and the processes inside them. */
    public static void cleanupLeftovers(String prefix) {
        for (String ns : namespacesOf(prefix)) {
            ExecResult pids = Shell.run("ip", "netns", "pids", ns);
            for (String pid : pids.stdout().split("\\s+")) {
                if (!pid.isBlank()) {
                    Shell.run("kill", "-9", pid.strip());
                }
            }
            Shell.run("ip", "netns", "del", ns);
        }
    }

    /** Namespaces of this machine that belong to lab {@code prefix}. */
    public static List<String> namespacesOf(String prefix) {
        String start = NS_PREFIX + prefix + "-";
        List<String> result = new ArrayList<>();
        for (String line : Shell.run("ip", "netns", "list").stdout().split("\n")) {
            String name = line.strip().split("\\s+")[0];
            if (name.startsWith(start)) {
                result.add(name);
            }
        }
        return result;
    }

    @Override
    public String toString() {
        return "Lab[" + prefix + ", pods=" + pods.keySet() + "]";
    }
}
