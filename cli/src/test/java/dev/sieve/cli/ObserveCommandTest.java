package dev.sieve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import dev.sieve.observer.server.ObserverServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code sieve observe/status/nodes} end to end against a real in-test Observer server on a free port.
 * Outputs are compared with golden files under src/test/resources/golden (run with -Dgolden.update=true to
 * rewrite them). The JVM runs in UTC (surefire argLine), so "local time" is UTC.
 */
class ObserveCommandTest {

    static final long T0 = 1_700_000_000_000_000_000L; // 2023-11-14T22:13:20Z
    static ObserverServer server;
    static FlowRing ring;
    static String addr;

    record Result(int code, String out, String err) {}

    static Result sieve(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    static byte[] ip(String s) throws Exception {
        return InetAddress.getByName(s).getAddress();
    }

    static VerdictEvent ev(long ts, String src, int sport, String dst, int dport, int proto, int sid, int did, int verdict,
                           int reason, int rule, Direction dir, int tcp, int flags, int icmpType) throws Exception {
        byte[] s = ip(src), d = ip(dst);
        return new VerdictEvent(ts, s.length == 16 ? 6 : 4, s, d, sport, dport, proto, sid, did, verdict, reason, rule, dir,
                tcp, flags, icmpType, 0, 60, 3, 17, 0);
    }

    @BeforeAll
    static void start() throws Exception {
        StaticResolver r = new StaticResolver()
                .identity(1001, "k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop")
                .identity(1002, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=shop")
                .identity(1003, "k8s:app=database", "k8s:io.kubernetes.pod.namespace=production")
                .identity(2, "reserved:world")
                .pod("10.0.1.10", "shop", "frontend-7d4b9c8f6d-x2x9k", new EndpointResolver.Workload("frontend", "Deployment"))
                .pod("10.0.1.20", "shop", "backend-0")
                .pod("10.0.2.30", "production", "database-0")
                .pod("fd00::10", "shop", "frontend-v6")
                .pod("fd00::20", "shop", "backend-v6")
                .rule(7, new EndpointResolver.PolicyRef("CiliumNetworkPolicy", "shop", "allow-frontend-to-backend", List.of(), 1, false))
                .rule(9, new EndpointResolver.PolicyRef("CiliumClusterwideNetworkPolicy", "", "deny-shop-to-db", List.of(), 1, true));
        FlowEnricher en = new FlowEnricher(r, "node-1", ts -> ts);
        List<VerdictEvent> events = List.of(
                ev(T0, "10.0.1.10", 40000, "10.0.1.20", 8080, 6, 1001, 1002, 1, 0, 7, Direction.INGRESS, 0x02, VerdictEvent.FLAG_NEW, 0),
                ev(T0 + 1_250_000L, "10.0.1.20", 8080, "10.0.1.10", 40000, 6, 1002, 1001, 1, 0, 0, Direction.INGRESS, 0x12, VerdictEvent.FLAG_REPLY, 0),
                ev(T0 + 2_000_000_000L, "10.0.1.20", 41000, "10.0.2.30", 5432, 6, 1002, 1003, 2, 181, 9, Direction.EGRESS, 0x02, VerdictEvent.FLAG_NEW, 0),
                ev(T0 + 3_000_000_000L, "10.0.1.10", 53000, "8.8.8.8", 53, 17, 1001, 2, 2, 133, 0, Direction.EGRESS, 0, VerdictEvent.FLAG_NEW, 0),
                ev(T0 + 4_000_000_000L, "fd00::10", 7, "fd00::20", 7, 58, 1001, 1002, 1, 0, 7, Direction.EGRESS, 0, VerdictEvent.FLAG_NEW, 128),
                ev(T0 + 5_000_000_000L, "10.0.1.10", 40000, "10.0.1.20", 8080, 6, 1001, 1002, 1, 0, 7, Direction.INGRESS, 0x11, 0, 0));
        ring = new FlowRing(64);
        int i = 0;
        for (VerdictEvent e : events) {
            Flow f = en.enrich(e).toBuilder().setUuid(String.format("00000000-0000-0000-0000-%012d", ++i)).build();
            ring.append(f);
        }
        server = ObserverServer.start(new InetSocketAddress("127.0.0.1", 0), ring, "node-1", "sieve-test");
        addr = "127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static void golden(String name, String actual) throws Exception {
        Path dir = Path.of(System.getProperty("sieve.repo.dir", "."), "cli/src/test/resources/golden");
        Path file = dir.resolve(name);
        if (Boolean.getBoolean("golden.update") || !Files.exists(file)) {
            Files.createDirectories(dir);
            Files.writeString(file, actual, StandardCharsets.UTF_8);
        }
        assertThat(actual).as("golden/" + name).isEqualTo(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** The stock hubble CLI (shared/tools/hubble beside the worktree or a parent), or null. */
    static Path hubbleTool() {
        for (Path p = Path.of(System.getProperty("sieve.repo.dir", ".")).toAbsolutePath(); p != null; p = p.getParent()) {
            Path h = p.resolve("shared/tools/hubble");
            if (Files.isExecutable(h)) return h;
        }
        return null;
    }

    /** What the stock hubble CLI prints for the same arguments against the same server (null without it). */
    static String hubble(String... args) throws Exception {
        Path h = hubbleTool();
        if (h == null) return null;
        List<String> cmd = new java.util.ArrayList<>(List.of(h.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("TZ", java.util.TimeZone.getDefault().getID());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return out;
    }

    /** The golden file, and hubble's own output for the same flows where the stock CLI is at hand. */
    static void goldenAndHubble(String name, Result r, String... args) throws Exception {
        golden(name, r.out);
        String h = hubble(args);
        if (h != null) assertThat(r.out).as("sieve vs hubble " + String.join(" ", args)).isEqualTo(h);
    }

    @ParameterizedTest
    @ValueSource(strings = {"compact", "dict", "json", "jsonpb", "table"})
    void everyOutputFormatMatchesItsGoldenFile(String format) throws Exception {
        String[] args = {"observe", "--server", addr, "--all", "-o", format};
        Result r = sieve(args);
        assertThat(r.err).isEmpty();
        assertThat(r.code).isZero();
        goldenAndHubble("observe-" + format + ".txt", r, args);
    }

    @Test
    void nodeNamesAndTimeFormats() throws Exception {
        String[] args = {"observe", "--server", addr, "--last", "2", "--print-node-name", "--time-format", "RFC3339Nano"};
        Result r = sieve(args);
        assertThat(r.code).isZero();
        goldenAndHubble("observe-compact-node-rfc3339nano.txt", r, args);
        String[] targs = {"observe", "--server", addr, "--first", "2", "-o", "table", "--print-node-name", "--time-format", "RFC3339"};
        Result t = sieve(targs);
        goldenAndHubble("observe-table-node-rfc3339.txt", t, targs);
    }

    @Test
    void filtersAndNot() {
        Result dropped = sieve("observe", "--server", addr, "--verdict", "DROPPED", "-o", "compact");
        assertThat(dropped.out.lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("DROPPED"));
        Result notProd = sieve("observe", "--server", addr, "--verdict", "DROPPED", "--not", "--namespace", "production");
        assertThat(notProd.out.lines()).singleElement().satisfies(l -> assertThat(l).contains("8.8.8.8:53").contains("Policy denied"));
        Result either = sieve("observe", "--server", addr, "--pod", "production/");
        assertThat(either.out.lines()).singleElement().satisfies(l -> assertThat(l).contains("production/database-0:5432"));
        Result toPort = sieve("observe", "--server", addr, "--to-port", "8080", "--protocol", "tcp");
        assertThat(toPort.out.lines()).hasSize(2);
        Result label = sieve("observe", "--server", addr, "--from-label", "app in (backend)", "--type", "drop");
        assertThat(label.out.lines()).singleElement().satisfies(l -> assertThat(l).contains("Policy denied by denylist"));
        Result v6 = sieve("observe", "--server", addr, "--ip", "fd00::/64", "-o", "dict");
        assertThat(v6.out).contains("    SUMMARY: ICMPv6 EchoRequest");
        Result since = sieve("observe", "--server", addr, "--since", "2023-11-14T22:13:24Z", "--until", "2023-11-14T22:13:30Z");
        assertThat(since.out.lines()).hasSize(2);
        Result first = sieve("observe", "--server", addr, "--first", "1", "-o", "json");
        assertThat(first.out.lines()).singleElement().satisfies(l -> assertThat(l).contains("\"uuid\":\"00000000-0000-0000-0000-000000000001\""));
    }

    @Test
    void statusAndNodes() throws Exception {
        Result s = sieve("status", "--server", addr);
        assertThat(s.code).isZero();
        assertThat(s.out).contains("Healthcheck (via " + addr + "): Ok\n", "Current/Max Flows: 6/64 (9.38%)\n", "Seen Flows: 6\n",
                "Connected Nodes: 1/1\n");
        Result n = sieve("nodes", "--server", addr);
        assertThat(n.code).isZero();
        assertThat(n.out.lines().toList()).hasSize(2);
        assertThat(n.out.lines().toList().get(0)).startsWith("NAME     STATUS      AGE");
        assertThat(n.out.lines().toList().get(1)).startsWith("node-1   Connected   ").contains("6/64 (9.38%)");
    }

    @Test
    void identityListFromTheFlowsOfAServer() throws Exception {
        Result r = sieve("identity", "list", "--server", addr);
        assertThat(r.err).isEmpty();
        assertThat(r.code).isZero();
        golden("identity-list-server-table.txt", r.out);
        Result j = sieve("identity", "list", "--server", addr, "-o", "json");
        assertThat(j.code).isZero();
        golden("identity-list-server-json.txt", j.out);
    }

    @Test
    void unreachableServerIsOneClearLineAndExit2() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        for (String cmd : List.of("observe", "status", "nodes", "identity list")) {
            List<String> args = new java.util.ArrayList<>(List.of(cmd.split(" ")));
            args.addAll(List.of("--server", "127.0.0.1:" + port));
            Result r = sieve(args.toArray(String[]::new));
            assertThat(r.code).as(cmd).isEqualTo(2);
            assertThat(r.out).isEmpty();
            assertThat(r.err.lines()).as(cmd).singleElement()
                    .satisfies(l -> assertThat(l).startsWith("sieve: cannot reach the Observer API at 127.0.0.1:" + port));
        }
    }

    /**
     * A server that answers the client's HTTP/2 preface the way a TLS-only server does (a TLS alert record) or
     * the way a plain HTTP/1 server does; closes after answering.
     */
    static ServerSocket fakeServer(byte[] answer) throws Exception {
        ServerSocket ss = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().start(() -> {
            while (!ss.isClosed()) {
                try (var c = ss.accept()) {
                    c.getInputStream().read(new byte[4096]);
                    c.getOutputStream().write(answer);
                    c.getOutputStream().flush();
                    Thread.sleep(50);
                } catch (Exception e) {
                    // closed
                }
            }
        });
        return ss;
    }

    @Test
    void tlsMismatchIsOneClearLineAndExit2() throws Exception {
        byte[] tlsAlert = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};
        try (ServerSocket tls = fakeServer(tlsAlert)) {
            String a = "127.0.0.1:" + tls.getLocalPort();
            for (String cmd : List.of("observe", "status", "nodes", "identity list")) {
                List<String> args = new java.util.ArrayList<>(List.of(cmd.split(" ")));
                args.addAll(List.of("--server", a));
                Result r = sieve(args.toArray(String[]::new));
                assertThat(r.code).as(cmd + ": " + r.err).isEqualTo(2);
                assertThat(r.err).as(cmd).isEqualTo("sieve: the Observer API at " + a
                        + " speaks TLS: add --tls and --tls-ca-cert-files FILE\n");
            }
        }
        Result https = sieve("observe", "--server", "https://" + addr);
        assertThat(https.code).isEqualTo(2);
        assertThat(https.err.lines()).singleElement().satisfies(l -> assertThat(l).startsWith("sieve: --server https://").contains("give HOST:PORT and --tls"));
        try (ServerSocket http1 = fakeServer("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII))) {
            Result r = sieve("observe", "--server", "127.0.0.1:" + http1.getLocalPort());
            assertThat(r.code).isEqualTo(2);
            assertThat(r.err.lines()).singleElement().satisfies(l -> assertThat(l).contains("does not speak gRPC"));
        }
    }

    @Test
    void badFlagsAndFiltersAreExit2WithOneLine() {
        for (String[] args : List.of(
                new String[] {"observe", "--server", addr, "--verdict", "NOPE"},
                new String[] {"observe", "--server", addr, "--from-ip", "10.0.0.0/99"},
                new String[] {"observe", "--server", addr, "--label", "app in (a"},
                new String[] {"observe", "--server", addr, "--since", "yesterday"},
                new String[] {"observe", "--server", addr, "--since", "1m", "--until", "2h"},
                new String[] {"observe", "--server", addr, "--first", "3", "--last", "3"},
                new String[] {"observe", "--server", addr, "--first", "3", "--follow"},
                new String[] {"observe", "--server", addr, "-o", "yaml"},
                new String[] {"observe", "--server", addr, "--not"},
                new String[] {"observe", "--server", "nohostport"},
                new String[] {"observe", "--no-such-flag"})) {
            Result r = sieve(args);
            assertThat(r.code).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err).as(String.join(" ", args)).startsWith("sieve: ").doesNotContain("\tat ").doesNotContain("Exception");
            assertThat(r.err.lines().filter(l -> !l.startsWith("Try '")).count()).as(String.join(" ", args)).isEqualTo(1);
        }
    }

    @Test
    void helpWorks() {
        Result r = sieve("observe", "--help");
        assertThat(r.code).isZero();
        assertThat(r.out).contains("--verdict", "--not", "--follow", "--print-node-name");
    }
}
