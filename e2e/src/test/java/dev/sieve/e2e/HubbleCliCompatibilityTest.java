package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.agent.Agent;
import dev.sieve.agent.AgentOptions;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.relay.support.ClickHouseServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stock hubble CLI v1.19.4 ({@code ../shared/tools/hubble}) against a live Sieve node agent (a lab with pods,
 * real eBPF verdicts) and the real relay process ({@code bin/sieve-relay}, memory store) it pushes to: each row of
 * issue 20's table is a test, run against both servers where the row applies; and {@code bin/sieve observe}
 * compared byte for byte with {@code hubble observe} for the same flows (a window that ended before the test
 * reads it), every output format and a set of filter flags.
 */
class HubbleCliCompatibilityTest {

    static final Path REPO = Path.of(System.getProperty("sieve.repo.dir", "..")).toAbsolutePath().normalize();
    static final Path HUBBLE = hubbleTool();
    static final Path SIEVE = REPO.resolve("bin/sieve");

    static Lab lab;
    static Pod frontend, backend, client, database, devClient;
    static final List<BackgroundProcess> servers = new ArrayList<>();
    @TempDir
    static Path dir;
    static Agent agent;
    static Process relay, chRelay;
    static ClickHouseServer clickhouse;
    static RelayPusher pusher;
    static String node, relayAddress, chRelayAddress;
    static String until; // every flow the comparisons read happened before this

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        assumeTrue(Files.isExecutable(HUBBLE), "needs the stock hubble CLI at " + HUBBLE);
        assumeTrue(Files.isRegularFile(REPO.resolve("relay/target/quarkus-app/quarkus-run.jar")), "needs the built relay");
        int grpc = freePort(), http = freePort();
        relayAddress = "127.0.0.1:" + grpc;
        relay = new ProcessBuilder(REPO.resolve("bin/sieve-relay").toString(), "--store", "memory",
                "--grpc-address", relayAddress, "--http-address", "127.0.0.1:" + http)
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
        awaitPort(relay, dir.resolve("relay.log"), grpc, Duration.ofSeconds(60));

        lab = Lab.create(Lab.claimRandomPrefix());
        frontend = lab.addPod("frontend", "10.77.1.10", null);
        backend = lab.addPod("backend", "10.77.1.20", null);
        client = lab.addPod("client", "10.77.1.30", null);
        database = lab.addPod("database", "10.77.1.40", null);
        devClient = lab.addPod("dev-client", "10.77.2.10", null);
        servers.add(backend.start("nc", "-lk", "-p", "8080"));
        servers.add(database.start("nc", "-lk", "-p", "5432"));
        Path manifests = dir.resolve("manifests");
        Files.createDirectories(manifests);
        Files.writeString(manifests.resolve("cluster.yaml"), cluster());
        Path examples = REPO.resolve("examples/policies");
        Files.copy(examples.resolve("01-allow-frontend-to-backend.yaml"), manifests.resolve("01.yaml"));
        Files.copy(examples.resolve("04-deny-dev-to-prod-db.yaml"), manifests.resolve("04.yaml"));
        agent = new Agent(AgentOptions.parse(new String[] {
                "--node-name", "node-1", "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                "--relay", relayAddress, "--spool-dir", dir.resolve("spool").toString()}, Map.of()));
        node = "127.0.0.1:" + agent.observerPort();

        for (int i = 0; i < 3; i++) {
            connects(frontend, "10.77.1.20", 8080);   // allowed (01)
            connects(client, "10.77.1.20", 8080);     // dropped: no rule allows it
            connects(client, "10.77.1.40", 5432);     // allowed: cluster
            connects(devClient, "10.77.1.40", 5432);  // denied (04)
        }
        Thread.sleep(1500);
        until = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        // the agent pushes, the relay stores: the window is complete on both servers once all is acknowledged
        if (!agent.relay().flush(Duration.ofSeconds(30))) throw new IllegalStateException("the relay did not acknowledge the node's flows");

        // a second relay on a real ClickHouse, holding the same flows: the node's buffer pushed as the agent pushes it
        clickhouse = new ClickHouseServer().start();
        int chGrpc = freePort(), chHttp = freePort();
        chRelayAddress = "127.0.0.1:" + chGrpc;
        chRelay = new ProcessBuilder(REPO.resolve("bin/sieve-relay").toString(), "--store", "clickhouse",
                "--clickhouse-url", clickhouse.url(), "--grpc-address", chRelayAddress, "--http-address", "127.0.0.1:" + chHttp)
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay-clickhouse.log").toFile()).start();
        awaitPort(chRelay, dir.resolve("relay-clickhouse.log"), chGrpc, Duration.ofSeconds(60));
        // kept open until the end (a connected node, as the agent's own push to the other relay)
        pusher = new RelayPusher(chRelayAddress, "node-1", dir.resolve("spool-ch"), 64L << 20, RelayPusher.Settings.DEFAULT);
        {
            var ring = agent.ring();
            long end = ring.nextSeq();
            for (long seq = ring.oldestSeq(); seq < end; seq++) {
                var e = ring.get(seq);
                if (e != null) pusher.offer(e.flow());
            }
            Thread.sleep(1000); // past the pusher's batch age: the last batch is sealed
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && (pusher.pendingBatches() > 0 || pusher.ackedBatches() == 0)) Thread.sleep(100);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (dir != null) stopCliDaemon();
            if (pusher != null) pusher.close();
            if (agent != null) agent.close();
        } finally {
            try {
                for (BackgroundProcess p : servers) p.close();
                for (Process p : new Process[] {relay, chRelay}) {
                    if (p == null) continue;
                    p.destroy();
                    if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
                }
                if (clickhouse != null) clickhouse.close();
            } finally {
                if (lab != null) {
                    lab.close();
                    Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
                }
            }
        }
    }

    // ---- issue 20's table, row by row --------------------------------------------------------------------------

    @Test
    void hubbleStatusIsHealthyOnTheNode() {
        status(node, "1/1");
    }

    @Test
    void hubbleStatusIsHealthyOnTheRelay() {
        status(relayAddress, "1/1");
    }

    static void status(String server, String nodes) {
        Result r = hubble("status", "--server", server);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Healthcheck (via " + server + "): Ok").contains("Current/Max Flows:")
                .contains("Flows/s:").contains("Connected Nodes: " + nodes);
    }

    @Test
    void hubbleObserveCompactWorksOnTheNode() {
        observeCompact(node);
    }

    @Test
    void hubbleObserveCompactWorksOnTheRelay() {
        observeCompact(relayAddress);
    }

    static void observeCompact(String server) {
        Result r = hubble("observe", "--server", server, "--last", "3", "--until", until);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out().lines()).hasSize(3).allSatisfy(l -> assertThat(l).containsPattern("(->|<-) .*(FORWARDED|DROPPED|ALLOWED|DENIED)"));
    }

    @Test
    void hubbleObserveTableAndToPortWorkOnTheNode() {
        observeTableToPort(node);
    }

    @Test
    void hubbleObserveTableAndToPortWorkOnTheRelay() {
        observeTableToPort(relayAddress);
    }

    static void observeTableToPort(String server) {
        Result r = hubble("observe", "--server", server, "-o", "table", "--to-port", "5432", "--until", until);
        assertThat(r.code()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("TIMESTAMP").contains("SOURCE").contains("DESTINATION").contains("VERDICT");
        assertThat(lines.subList(1, lines.size())).isNotEmpty().allSatisfy(l -> assertThat(l).contains("production/database:5432"));
    }

    @Test
    void hubbleListNodesShowsCurrentAndMaxFlowsOnTheNode() {
        listNodes(node);
    }

    @Test
    void hubbleListNodesShowsCurrentAndMaxFlowsOnTheRelay() {
        listNodes(relayAddress);
    }

    static void listNodes(String server) {
        Result r = hubble("list", "nodes", "--server", server);
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("CURRENT/MAX-FLOWS").containsPattern("node-1\\s+Connected\\s+.*\\d+/\\d+ \\(")
                .doesNotContain("N/A");
    }

    @Test
    void hubbleObserveAgentEventsOnTheNode() {
        Result r = hubble("observe", "agent-events", "--server", node, "--all");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).contains("AGENT_STARTED").contains("POLICY_UPDATED")
                .contains("k8s:io.cilium.k8s.policy.name=allow-frontend-to-backend")
                .contains("ENDPOINT_CREATED (id: ").contains("pod name: frontend").contains("ENDPOINT_REGENERATE_SUCCESS")
                .contains("IPCACHE_UPSERTED (cidr: 10.77.1.10/32");
    }

    @Test
    void sieveObserveAgentAndDebugEventsPrintWhatHubblePrints() {
        for (String format : List.of("compact", "dict", "table", "jsonpb")) {
            for (List<String> flags : List.of(List.of("--all"), List.of("--last", "3", "--print-node-name"))) {
                for (String kind : List.of("agent-events", "debug-events")) {
                    List<String> args = new ArrayList<>(List.of("observe", kind, "--server", node, "-o", format));
                    args.addAll(flags);
                    Result h = hubble(args.toArray(String[]::new)), s = sieve(args.toArray(String[]::new));
                    assertThat(h.code()).as("hubble %s: %s", args, h).isZero();
                    assertThat(s.out()).as("sieve vs hubble %s (%s)", args, s.err()).isEqualTo(h.out());
                }
            }
        }
    }

    @Test
    void hubbleObserveDebugEventsOnTheNodeIsAnEmptyStream() {
        Result r = hubble("observe", "debug-events", "--server", node, "--last", "10");
        assertThat(r.code()).as(r.toString()).isZero();
        assertThat(r.out()).isEmpty();
    }

    @Test
    void hubbleObserveJsonDictNodeNameAndNamespacesWork() {
        for (String server : List.of(node, relayAddress)) {
            Result json = hubble("observe", "--server", server, "-o", "json", "--last", "2", "--until", until);
            assertThat(json.code()).as(json.toString()).isZero();
            assertThat(json.out().lines()).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("{\"flow\":{\"time\":"));
            Result dict = hubble("observe", "--server", server, "-o", "dict", "--print-node-name", "--last", "1", "--until", until);
            assertThat(dict.out()).contains("       NODE: node-1");
            Result ns = hubble("list", "namespaces", "--server", server);
            assertThat(ns.out()).contains("production").contains("development");
        }
    }

    // ---- the relay on ClickHouse ---------------------------------------------------------------------------------

    @Test
    void hubbleStatusListNodesAndObserveOnTheClickHouseRelay() {
        status(chRelayAddress, "1/1");
        observeCompact(chRelayAddress);
        observeTableToPort(chRelayAddress);
        Result nodes = hubble("list", "nodes", "--server", chRelayAddress);
        assertThat(nodes.code()).as(nodes.toString()).isZero();
        assertThat(nodes.out()).containsPattern("node-1\\s+Connected");
    }

    @Test
    void sinceAndUntilFarInThePastOnTheClickHouseRelay() {
        Result none = hubble("observe", "--server", chRelayAddress, "--since", "2001-01-01T00:00:00Z", "--until", "2001-01-02T00:00:00Z");
        assertThat(none.code()).as(none.toString()).isZero();
        assertThat(none.out()).isEmpty();
        for (List<String> window : List.of(List.of("--since", "2001-01-01T00:00:00Z", "--until", until, "--first", "5"),
                List.of("--since", "2001-01-01T00:00:00Z", "--until", until, "--last", "5", "--verdict", "DROPPED"))) {
            for (String format : List.of("compact", "jsonpb", "table")) {
                List<String> args = new ArrayList<>(List.of("observe", "--server", chRelayAddress, "-o", format));
                args.addAll(window);
                Result h = hubble(args.toArray(String[]::new)), s = sieve(args.toArray(String[]::new));
                assertThat(h.code()).as("hubble %s: %s", args, h).isZero();
                assertThat(h.out()).as("hubble %s", args).isNotEmpty();
                assertThat(s.out()).as("sieve vs hubble %s (%s)", args, s.err()).isEqualTo(h.out());
                // the same flows as the memory relay holds
                List<String> memory = new ArrayList<>(args);
                memory.set(2, relayAddress);
                assertThat(hubble(memory.toArray(String[]::new)).out()).as("memory vs clickhouse %s", args).isEqualTo(h.out());
            }
        }
    }

    // ---- sieve observe against hubble observe ------------------------------------------------------------------

    static final List<List<String>> FLAG_SETS = List.of(
            List.of(),
            List.of("--verdict", "DROPPED"),
            List.of("--from-namespace", "development"),
            List.of("--to-namespace", "production", "--not", "--verdict", "FORWARDED"),
            List.of("--to-port", "5432"),
            List.of("--pod", "production/frontend"),
            List.of("--label", "app in (client,frontend)"),
            List.of("--protocol", "tcp", "--traffic-direction", "ingress"),
            List.of("--type", "policy-verdict"),
            List.of("-t", "trace:to-endpoint"),
            List.of("--ip", "10.77.1.40"),
            List.of("--from-identity", "1", "--not", "--ip-version", "v6"),
            List.of("--drop-reason-desc", "POLICY_DENY"),
            List.of("--field-mask", "time,verdict,source.pod_name,destination.pod_name"),
            List.of("--since", "1h", "--since", "2h")); // repeated: the last counts

    @Test
    void sieveObservePrintsWhatHubblePrintsInEveryFormat() {
        for (String server : List.of(node, relayAddress)) {
            for (String format : List.of("compact", "json", "jsonpb", "dict", "table")) {
                // every flag set in compact and jsonpb, the first few in the other layouts (each pair costs two CLI starts)
                boolean all = format.equals("compact") || format.equals("jsonpb");
                for (List<String> flags : all ? FLAG_SETS : FLAG_SETS.subList(0, 4)) {
                    List<String> args = new ArrayList<>(List.of("observe", "--server", server, "-o", format, "--until", until, "--last", "15"));
                    args.addAll(flags);
                    Result h = hubble(args.toArray(String[]::new));
                    Result s = sieve(args.toArray(String[]::new));
                    if (flags.contains("--field-mask") && !format.startsWith("json")) { // hubble: masks only with JSON output
                        assertThat(h.code()).as("hubble %s: %s", args, h).isNotZero();
                        assertThat(s.code()).as("sieve %s: %s", args, s).isNotZero();
                        assertThat(s.err()).contains(format + " output format is not compatible with custom field mask");
                        continue;
                    }
                    assertThat(h.code()).as("hubble %s: %s", args, h).isZero();
                    assertThat(s.code()).as("sieve %s: %s", args, s).isZero();
                    assertThat(s.out()).as("sieve vs hubble %s", args).isEqualTo(h.out());
                }
            }
        }
        // not vacuous: the window has drops from development
        assertThat(hubble("observe", "--server", relayAddress, "--until", until, "--from-namespace", "development").out()).contains("DROPPED");
    }

    @Test
    void printRawFiltersAgreeForEveryFilterFlag() throws IOException {
        List<List<String>> cases = new ArrayList<>(FLAG_SETS);
        for (String flag : List.of("--cluster c1", "--drop-reason-desc POLICY_DENIED", "--encrypted", "--fqdn *.cilium.io",
                "--from-cluster c1", "--from-fqdn a.b", "--from-identity 5", "--from-ip 1.1.1.1", "--from-label app=x",
                "--from-namespace ns1", "--from-pod ns1/p", "--from-pod p", "--from-port 80", "--from-service ns/s",
                "--from-workload deploy/w", "--http-header foo:bar", "--http-method get", "--http-path /a", "--http-status 5+",
                "--http-url http://x", "--identity 7", "--interface eth0", "--ip 10.0.0.1", "--ip-trace-id 9", "--ip-version v6",
                "-4", "-6", "-l reserved:world", "-n production", "--node-label a=b", "--node-name k8s*", "--pod p", "--pod ns/p",
                "--port 8080", "--protocol icmp", "--service s", "--snat-ip 1.2.3.4", "--tcp-flags syn", "--to-cluster c2",
                "--to-fqdn x.y", "--to-identity 2", "--to-ip 2.2.2.2", "--to-label reserved:world", "--to-namespace ns2",
                "--to-pod q", "--to-port 443", "--to-service svc", "--to-workload w", "--trace-id abc",
                "--traffic-direction ingress", "-t drop", "--type l7", "--unencrypted", "--uuid 1234", "--verdict DROPPED",
                "--workload w", "--identity world", "--from-namespace a --to-namespace b --protocol tcp",
                "-n production --pod p")) {
            cases.add(List.of(flag.split(" ")));
        }
        cases.add(List.of("--allowlist", "{\"source_pod\":[\"a/b\"]}", "--denylist", "{\"verdict\":[\"DROPPED\"]}"));
        for (List<String> flags : cases) {
            List<String> args = new ArrayList<>(List.of("observe", "--print-raw-filters"));
            args.addAll(flags);
            Result h = hubble(args.toArray(String[]::new));
            Result s = sieve(args.toArray(String[]::new));
            assertThat(s.out()).as("sieve vs hubble %s (%s)", flags, s.err()).isEqualTo(h.out());
            assertThat(s.code() == 0).as("exit status of %s: sieve %s, hubble %s", flags, s, h).isEqualTo(h.code() == 0);
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    record Result(int code, String out, String err) {}

    static Result hubble(String... args) {
        return run(HUBBLE, args);
    }

    /**
     * {@code bin/sieve} both ways: through the native client and its CLI daemon (this suite's own socket folder), and
     * in a plain JVM ({@code SIEVE_CLI_DAEMON=0}); the two must agree to the byte and in the exit code.
     */
    static Result sieve(String... args) {
        Result viaDaemon = run(SIEVE, Map.of(), args);
        Result jvm = run(SIEVE, Map.of("SIEVE_CLI_DAEMON", "0"), args);
        assertThat(viaDaemon).as("sieve %s through the CLI daemon vs a plain JVM", List.of(args)).isEqualTo(jvm);
        return viaDaemon;
    }

    static void stopCliDaemon() {
        Result status = run(SIEVE, Map.of("SIEVE_CLI_DAEMON", "0"), "daemon", "status");
        run(SIEVE, Map.of("SIEVE_CLI_DAEMON", "0"), "daemon", "stop");
        var m = java.util.regex.Pattern.compile("pid (\\d+),").matcher(status.out());
        if (m.find()) ProcessHandle.of(Long.parseLong(m.group(1))).ifPresent(p -> {
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                p.destroyForcibly();
            }
        });
    }

    @Test
    void sieveRanThroughTheCliDaemon() {
        assumeTrue(Files.isExecutable(REPO.resolve("cli/target/sieve-client")), "needs the native client");
        sieve("policy", "validate", REPO.resolve("examples").toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Result status;
        do {
            status = run(SIEVE, Map.of(), "daemon", "status");
        } while (status.code() != 0 && System.nanoTime() < deadline);
        assertThat(status.out()).as("%s", status).contains("runs served");
    }

    static Result run(Path exe, String... args) {
        return run(exe, Map.of(), args);
    }

    static Result run(Path exe, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("HOME", dir.toString()); // no user config of hubble
            pb.environment().put("SIEVE_CLI_SOCKET_DIR", dir.resolve("cli-daemon").toString());
            pb.environment().put("SIEVE_CLI_DAEMON_IDLE_SECONDS", "120"); // gone soon even if the JVM running this suite is killed
            pb.environment().remove("SIEVE_CLI_DAEMON");
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static boolean connects(Pod from, String ip, int port) {
        return from.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "1", ip, String.valueOf(port)).ok();
    }

    /** {@code shared/tools/hubble} beside the worktree or one of its parents ({@code ../shared/tools/hubble} from main). */
    static Path hubbleTool() {
        for (Path p = REPO; p != null; p = p.getParent()) {
            Path h = p.resolve("shared/tools/hubble");
            if (Files.isExecutable(h)) return h;
        }
        return REPO.resolveSibling("shared").resolve("tools/hubble");
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void awaitPort(Process relay, Path log, int port, Duration max) throws Exception {
        long end = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < end) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (!relay.isAlive()) throw new AssertionError("the relay exited: " + Files.readString(log));
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nothing listens on " + port + " after " + max);
    }

    static String cluster() {
        return """
                apiVersion: v1
                kind: Namespace
                metadata: {name: production}
                ---
                apiVersion: v1
                kind: Namespace
                metadata: {name: development}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: frontend, namespace: production, labels: {app: frontend}}
                spec: {nodeName: node-1}
                status: {podIP: 10.77.1.10}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: backend, namespace: production, labels: {app: backend}}
                spec: {nodeName: node-1}
                status: {podIP: 10.77.1.20}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: client, namespace: production, labels: {app: client}}
                spec: {nodeName: node-1}
                status: {podIP: 10.77.1.30}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: database, namespace: production, labels: {app: database, env: production}}
                spec: {nodeName: node-1}
                status: {podIP: 10.77.1.40}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: dev-client, namespace: development, labels: {app: client}}
                spec: {nodeName: node-1}
                status: {podIP: 10.77.2.10}
                """;
    }
}
