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
