package dev.sieve.enforcer.datapath;

import static dev.sieve.enforcer.maps.Direction.EGRESS;
import static dev.sieve.enforcer.maps.Direction.INGRESS;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.TCP;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.UDP;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.allow;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a hostile pod can make of the datapath, with real packets between network namespaces in
 * both delivery modes: packets with another pod's or the node's source address (F1), ICMP errors
 * whose outer addresses do not fit the connection they quote (F2), and a SYN flood against the
 * node-wide conntrack (F10). Crafted packets come from craft.py (raw sockets) in the pod.
 *
 * <p>frontend may send to backend TCP 8080 and UDP 9000 only; backend admits only that and sends
 * nothing of its own (replies only); other is unrestricted; world is an external host.
 */
class HostileTrafficTest {
    static final int ID_FRONTEND = 1001, ID_BACKEND = 1002, ID_OTHER = 1003;
    static final int EP_FRONTEND = 21, EP_BACKEND = 22, EP_OTHER = 23;

    static Lab lab;
    static Datapath dp;
    static DatapathConfig config;
    static Pod frontend, backend, other, world;
    static int ifFrontend, ifBackend, ifOther;
    static VerdictEventReader reader;
    static Thread poller;
    static volatile boolean polling = true;
    static final ConcurrentLinkedQueue<VerdictEvent> events = new ConcurrentLinkedQueue<>();
    static final List<BackgroundProcess> servers = new ArrayList<>();
    static String craft;

    @BeforeAll
    static void setUp() throws URISyntaxException {
        BpfAssumptions.assumeBpfUsable();
        craft = Path.of(HostileTrafficTest.class.getResource("craft.py").toURI()).toString();
        lab = Lab.create();
        frontend = lab.addPod("frontend");
        backend = lab.addPod("backend");
        other = lab.addPod("other");
        world = lab.addExternal("world");
        config = DatapathConfig.of("test-" + lab.prefix()).withNetns(NetNs.named(lab.nodeNamespace()));
        dp = BpfAssumptions.openOrSkip(config);
        for (Pod p : List.of(frontend, backend, other)) {
            int id = p == frontend ? ID_FRONTEND : p == backend ? ID_BACKEND : ID_OTHER;
            dp.upsertIpcache(p.ipv4() + "/32", id);
            dp.upsertIpcache(p.ipv6().orElseThrow() + "/128", id);
        }
        dp.upsertIpcache(Lab.NODE_IPV4 + "/32", 1);
        dp.upsertIpcache(Lab.NODE_IPV6 + "/128", 1);
        ifFrontend = dp.attach(frontend.hostInterface());
        ifBackend = dp.attach(backend.hostInterface());
        ifOther = dp.attach(other.hostInterface());
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
        poller = Thread.ofPlatform().daemon().name("verdict-events").start(() -> {
            while (polling) {
                reader.poll(50);
            }
        });
        servers.add(backend.start("nc", "-lk", "8080"));
        servers.add(backend.start("nc", "-6", "-lk", "8080"));
        // other may also speak as frontend and as the node: the addresses are on its interface
        for (String a : List.of(frontend.ipv4() + "/32", frontend.ipv6().orElseThrow() + "/128", Lab.NODE_IPV4 + "/32")) {
            other.exec("ip", "addr", "add", a, "dev", "eth0", "nodad").orThrow("spoofed address on other");
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        polling = false;
        if (poller != null) poller.join(2000);
        if (reader != null) reader.close();
        servers.forEach(BackgroundProcess::close);
        if (dp != null) {
            for (Pod p : List.of(frontend, backend, other)) dp.detach(p.hostInterface());
            dp.close();
        }
        if (config != null) {
            Datapath.unpinAll(config);
            assertThat(Files.exists(config.pinDir())).as("pinned maps removed").isFalse();
        }
        if (lab != null) {
            lab.close();
            assertThat(Lab.namespacesOf(lab.prefix())).isEmpty();
        }
    }

    @BeforeEach
    void reset() {
        dp.setAggregation(AggregationLevel.MEDIUM);
        dp.setEndpoint(ifFrontend, new EndpointConfig(EP_FRONTEND, ID_FRONTEND, true, true, false, addresses(frontend)));
        dp.setEndpoint(ifBackend, new EndpointConfig(EP_BACKEND, ID_BACKEND, true, true, false, addresses(backend)));
        dp.setEndpoint(ifOther, new EndpointConfig(EP_OTHER, ID_OTHER, false, false, false, addresses(other)));
        dp.applyPolicy(EP_FRONTEND, List.of(allow(EGRESS, ID_BACKEND, TCP, 8080, 8080, 1), allow(EGRESS, ID_BACKEND, UDP, 9000, 9000, 2)));
        dp.applyPolicy(EP_BACKEND, List.of(allow(INGRESS, ID_FRONTEND, TCP, 8080, 8080, 3), allow(INGRESS, ID_FRONTEND, UDP, 9000, 9000, 4)));
        dp.applyPolicy(EP_OTHER, List.of());
        dp.flushConntrack(0);
        events.clear();
    }

    static List<String> addresses(Pod p) {
        return List.of(p.ipv4(), p.ipv6().orElseThrow());
    }

    // ---- F1: source address verification -----------------------------------------------------

    @ParameterizedTest
    @EnumSource(LocalDelivery.class)
    void aPodCannotSendWithAnotherPodsOrTheNodesAddress(LocalDelivery delivery) {
        dp.setLocalDelivery(delivery);
        assertThat(udp(frontend, null, backend.ipv4(), 9000)).as("control: the real frontend reaches backend").isTrue();
        assertThat(udp(frontend, null, backend.ipv6().orElseThrow(), 9000)).as("control over IPv6").isTrue();
        events.clear();
        String[][] spoofs = {
            {frontend.ipv4(), backend.ipv4()},
            {frontend.ipv6().orElseThrow(), backend.ipv6().orElseThrow()},
            {Lab.NODE_IPV4, backend.ipv4()},
        };
        for (String[] s : spoofs) {
            assertThat(udp(other, s[0], s[1], 9000)).as("UDP from other as " + s[0]).isFalse();
            VerdictEvent e = awaitEvent("INVALID_SOURCE_IP for " + s[0], ev -> ev.dropReason() == 132
                    && ev.endpointId() == EP_OTHER && ev.protocol() == 17 && from(ev, s[0]));
            assertThat(e.verdict()).isEqualTo(VerdictEvent.DROPPED);
            assertThat(e.direction()).isEqualTo(EGRESS);
            assertThat(e.srcIdentity()).as("reported as the pod that sent it").isEqualTo(ID_OTHER);
            assertThat(tcp(other, s[0], s[1], 8080)).as("TCP from other as " + s[0]).isFalse();
            awaitEvent("INVALID_SOURCE_IP SYN for " + s[0], ev -> ev.dropReason() == 132 && ev.protocol() == 6
                    && ev.endpointId() == EP_OTHER && from(ev, s[0]));
        }
        var spoofedPorts = events.stream().filter(ev -> ev.dropReason() == 132).map(VerdictEvent::srcPort).toList();
        assertThat(events).as("nothing reached backend's ingress from the spoofed sources")
                .noneMatch(ev -> ev.endpointId() == EP_BACKEND && spoofedPorts.contains(ev.srcPort()));
        assertThat(dp.metrics().entrySet()).anyMatch(m -> m.getKey().dropReason() == 132 && m.getValue().packets() >= 6);
        // other's own address still works
        assertThat(tcp(other, null, world.ipv4(), 1)).isFalse(); // nothing listens: just must not be a 132
        assertThat(events).noneMatch(ev -> ev.dropReason() == 132 && from(ev, other.ipv4()));
    }

    // ---- F2: ICMP errors must fit the connection they quote -----------------------------------

    @ParameterizedTest
    @EnumSource(LocalDelivery.class)
    void icmpErrorsMustTravelTheWayTheQuotedConnectionsErrorsWould(LocalDelivery delivery) {
        dp.setLocalDelivery(delivery);
        for (boolean v6 : new boolean[] {false, true}) {
            String f = v6 ? frontend.ipv6().orElseThrow() : frontend.ipv4();
            String b = v6 ? backend.ipv6().orElseThrow() : backend.ipv4();
            String o = v6 ? other.ipv6().orElseThrow() : other.ipv4();
            String w = v6 ? world.ipv6().orElseThrow() : world.ipv4();
            String type = v6 ? "1" : "3", code = v6 ? "4" : "3"; // port unreachable
            try (BackgroundProcess conn = frontend.start("nc", b, "8080")) {
                int port = sourcePort(frontend, b, 8080);
                String fp = Integer.toString(port);
                String what = (v6 ? "IPv6 " : "IPv4 ") + delivery + ": ";

                // frontend carries 1,000 bytes to world and to other inside "errors" about its allowed connection
                long atWorld = icmpErrorsIn(world, v6);
                long atOther = icmpErrorsIn(other, v6);
                events.clear();
                craft(frontend, "icmperr", f, w, type, code, b, f, "8080", fp, "1000", "4");
                craft(frontend, "icmperr", f, o, type, code, b, f, "8080", fp, "1000", "2");
                awaitEvent(what + "the error to world dropped", ev -> ev.endpointId() == EP_FRONTEND
                        && ev.verdict() == VerdictEvent.DROPPED && ev.destination().equals(addr(w)));
                awaitEvent(what + "the error to other dropped", ev -> ev.endpointId() == EP_FRONTEND
                        && ev.verdict() == VerdictEvent.DROPPED && ev.destination().equals(addr(o)));
                sleep(200);
                assertThat(icmpErrorsIn(world, v6) - atWorld).as(what + "errors that reached world").isZero();
                assertThat(icmpErrorsIn(other, v6) - atOther).as(what + "errors that reached other").isZero();

                // other forges errors to backend about the frontend-backend connection: backend's ingress denies other
                long atBackend = icmpErrorsIn(backend, v6);
                craft(other, "icmperr", o, b, type, code, b, f, "8080", fp, "0", "2");
                awaitEvent(what + "other's forged error dropped at backend", ev -> ev.endpointId() == EP_BACKEND
                        && ev.verdict() == VerdictEvent.DROPPED && ev.source().equals(addr(o)));
                sleep(200);
                assertThat(icmpErrorsIn(backend, v6) - atBackend).as(what + "forged errors that reached backend").isZero();

                // what stays related: frontend's own error to backend, and a router's (world) error to frontend
                craft(frontend, "icmperr", f, b, type, code, b, f, "8080", fp, "0", "1");
                long atFrontend = icmpErrorsIn(frontend, v6);
                craft(world, "icmperr", w, f, type, code, f, b, fp, "8080", "0", "1");
                awaitCount(what + "frontend's error reached backend", () -> icmpErrorsIn(backend, v6) - atBackend, 1);
                awaitCount(what + "the router's error reached frontend", () -> icmpErrorsIn(frontend, v6) - atFrontend, 1);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    static void craft(Pod pod, String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", craft));
        cmd.addAll(List.of(args));
        pod.exec(Duration.ofSeconds(120), cmd.toArray(String[]::new)).orThrow("craft.py " + String.join(" ", args));
    }

    static java.net.InetAddress addr(String ip) {
        return dev.sieve.enforcer.maps.IpPrefix.literal(ip, ip);
    }

    /** The local port of pod's established TCP connection to ip:port. */
    static int sourcePort(Pod pod, String ip, int port) {
        for (int i = 0; i < 50; i++) {
            String out = pod.exec("ss", "-Htn", "state", "established", "dst", ip.contains(":") ? "[" + ip + "]" : ip,
                    "dport", "= :" + port).stdout();
            Matcher m = Pattern.compile("(?m)^\\s*\\d+\\s+\\d+\\s+\\S*[:\\]](\\d+)\\s").matcher(out);
            if (m.find()) return Integer.parseInt(m.group(1));
            sleep(100);
        }
        throw new AssertionError("no established connection from " + pod + " to " + ip + ":" + port);
    }

    /** ICMP destination-unreachable messages the pod's stack received (Icmp InDestUnreachs / Icmp6InDestUnreachs). */
    static long icmpErrorsIn(Pod pod, boolean v6) {
        String out = pod.exec("cat", v6 ? "/proc/net/snmp6" : "/proc/net/snmp").stdout();
        if (v6) {
            Matcher m = Pattern.compile("(?m)^Icmp6InDestUnreachs\\s+(\\d+)").matcher(out);
            return m.find() ? Long.parseLong(m.group(1)) : 0;
        }
        List<String[]> icmp = out.lines().filter(l -> l.startsWith("Icmp: ")).map(l -> l.split("\\s+")).toList();
        for (int i = 0; i < icmp.get(0).length; i++) {
            if (icmp.get(0)[i].equals("InDestUnreachs")) return Long.parseLong(icmp.get(1)[i]);
        }
        throw new AssertionError("no InDestUnreachs in /proc/net/snmp of " + pod);
    }

    static void awaitCount(String what, java.util.function.LongSupplier value, long atLeast) {
        long v = 0;
        for (int i = 0; i < 60; i++) {
            v = value.getAsLong();
            if (v >= atLeast) return;
            sleep(50);
        }
        throw new AssertionError(what + ": " + v + " < " + atLeast);
    }

    // ---- helpers (events, traffic) ------------------------------------------------------------

    /** One UDP datagram from {@code from} (with source address {@code src}, or its own) to ip:port; true if it arrived. */
    static boolean udp(Pod from, String src, String ip, int port) {
        Pod to = backend;
        List<String> listen = new ArrayList<>(List.of("nc", "-u", "-l"));
        if (ip.contains(":")) listen.add("-6");
        listen.addAll(List.of("-W", "1", Integer.toString(port)));
        try (BackgroundProcess srv = to.start(listen.toArray(String[]::new))) {
            sleep(150);
            from.exec("sh", "-c", "echo hello | nc -u -w1 -q0 " + (src == null ? "" : "-s " + src + " ") + ip + " " + port);
            for (int i = 0; i < 10 && !srv.stdout().contains("hello"); i++) sleep(50);
            return srv.stdout().contains("hello");
        }
    }

    /** A TCP connection attempt (1 s); true if it connected. */
    static boolean tcp(Pod from, String src, String ip, int port) {
        List<String> cmd = new ArrayList<>(List.of("nc", "-z", "-w", "1"));
        if (src != null) cmd.addAll(List.of("-s", src));
        cmd.addAll(List.of(ip, Integer.toString(port)));
        ExecResult r = from.exec(Duration.ofSeconds(5), cmd.toArray(String[]::new));
        return r.ok();
    }

    static boolean from(VerdictEvent e, String address) {
        return e.source().equals(dev.sieve.enforcer.maps.IpPrefix.literal(address, address));
    }

    static VerdictEvent awaitEvent(String what, Predicate<VerdictEvent> p) {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<VerdictEvent> e = events.stream().filter(p).findFirst();
            if (e.isPresent()) return e.get();
            sleep(20);
        }
        throw new AssertionError("no event " + what + " among " + events.size() + " events:\n"
                + String.join("\n", events.stream().map(VerdictEvent::toString).toList()));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
