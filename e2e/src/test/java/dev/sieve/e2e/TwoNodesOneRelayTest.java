package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.agent.Agent;
import dev.sieve.agent.AgentOptions;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.lab.Traffic;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.relay.ingest.FlowIngestService;
import dev.sieve.relay.ingest.IngestHeaders;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.observer.RelayObserverService;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The relay end to end: one lab with pods on two nodes, two node agents (one per node, each with its own
 * pinned maps and spool), one relay on a real loopback port. Flows of both nodes come back from one GetFlows
 * through the relay's Observer API, in time order, with the verdicts and policy names the policies decide;
 * a relay that goes away and comes back on the same store ends up holding every flow exactly once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TwoNodesOneRelayTest {

    static final Duration DENIED = Duration.ofMillis(800);
    static final Duration ALLOWED = Duration.ofSeconds(5);

    // node-1: web, tool; node-2: api, db (one namespace, "shop")
    static final String WEB = "10.77.1.10", TOOL = "10.77.1.11", API = "10.77.1.20", DB = "10.77.1.21";

    static Lab lab;
    static Pod web, tool, api, db;
    static final List<BackgroundProcess> servers = new ArrayList<>();
    static Path dir;
    static Agent node1, node2;
    static FlowStore store;
    static AcklessStore firstRelayStore;
    static Relay relay;
    static int relayPort;
    static ManagedChannel channel;
    static ObserverGrpc.ObserverBlockingStub observer;

    /** The relay's ingest + Observer services over a store, on a Netty gRPC server: what the Quarkus app serves on 4245. */
    static final class Relay implements AutoCloseable {
        final ExecutorService pool = Executors.newFixedThreadPool(2, Thread.ofPlatform().name("e2e-ingest-", 0).daemon().factory());
        final RelayMetrics metrics = new RelayMetrics();
        final Server server;

        Relay(FlowStore store, int port) throws IOException {
            NodeRegistry nodes = new NodeRegistry(Clock.systemUTC(), Duration.ofSeconds(60));
            LiveFlows live = new LiveFlows(10_000);
            IngestProcessor processor = new IngestProcessor(store, live, nodes, metrics, new IngestProcessor.Limits(10_000, 16 << 20));
            RelayObserverService obs = new RelayObserverService(new FlowService(store, live), nodes, store, metrics::flowsRate);
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                    .withOption(ChannelOption.SO_REUSEADDR, true)
                    .addService(ServerInterceptors.intercept(new FlowIngestService(processor, nodes, pool), new IngestHeaders()))
                    .addService(obs)
                    .build().start();
        }

        /** Gone at once, like a killed relay: open streams are cut, the store stays. */
        @Override
        public void close() throws InterruptedException {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
            pool.shutdownNow();
        }
    }

    /**
     * The store, as the first relay sees it: once {@link #ackless} is set, every batch is stored but its
     * acknowledgement never comes — the worst moment for a relay to die, since the agents must resend
     * batches the store already holds.
     */
    static final class AcklessStore implements FlowStore {
        final FlowStore delegate;
        volatile boolean ackless;
        final Set<String> swallowed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicInteger swallowedBatches = new java.util.concurrent.atomic.AtomicInteger();

        AcklessStore(FlowStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public java.util.concurrent.CompletableFuture<Mark> appendAsync(Batch batch) {
            var stored = delegate.appendAsync(batch);
            if (!ackless || batch.flows().isEmpty()) return stored;
            stored.join();
            swallowed.add(batch.key().node());
            swallowedBatches.incrementAndGet();
            return new java.util.concurrent.CompletableFuture<>();
        }

        @Override
        public Mark mark(StreamKey key) throws dev.sieve.relay.store.StoreException {
            return delegate.mark(key);
        }

        @Override
        public void notStored(StreamKey key, long sequence) {
            delegate.notStored(key, sequence);
        }

        @Override
        public void query(dev.sieve.relay.query.FlowQuery q, java.util.function.Consumer<Flow> sink) throws dev.sieve.relay.store.StoreException {
            delegate.query(q, sink);
        }

        @Override
        public List<dev.sieve.relay.store.Aggregates.Bucket> counts(java.time.Instant since, java.time.Instant until, Duration bucket,
                String namespace) throws dev.sieve.relay.store.StoreException {
            return delegate.counts(since, until, bucket, namespace);
        }

        @Override
        public List<dev.sieve.relay.store.Aggregates.Edge> serviceMap(java.time.Instant since, java.time.Instant until, String namespace)
                throws dev.sieve.relay.store.StoreException {
            return delegate.serviceMap(since, until, namespace);
        }

        @Override
        public List<dev.sieve.relay.store.Aggregates.PolicyUse> policies(java.time.Instant since, java.time.Instant until)
                throws dev.sieve.relay.store.StoreException {
            return delegate.policies(since, until);
        }

        @Override
        public long size() throws dev.sieve.relay.store.StoreException {
            return delegate.size();
        }

        @Override
        public long capacity() {
            return delegate.capacity();
        }

        @Override
        public boolean ready() {
            return delegate.ready();
        }

        @Override
        public String kind() {
            return delegate.kind();
        }

        @Override
        public void close() {
            // the real store outlives the first relay
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        dir = Files.createTempDirectory("sieve-e2e-");
        lab = Lab.create(Lab.claimRandomPrefix());
        web = lab.addPod("web", WEB, null);
        tool = lab.addPod("tool", TOOL, null);
        api = lab.addPod("api", API, null);
        db = lab.addPod("db", DB, null);
        servers.add(Traffic.startEchoServer(web, 8080));
        servers.add(Traffic.startEchoServer(api, 8080, 9090));
        servers.add(Traffic.startEchoServer(db, 5432));

        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
        Files.writeString(manifests.resolve("policies.yaml"), POLICIES);

        store = new MemoryFlowStore(1_000_000);
        relayPort = freePort();
        firstRelayStore = new AcklessStore(store);
        relay = new Relay(firstRelayStore, relayPort);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", relayPort).usePlaintext().build();
        observer = ObserverGrpc.newBlockingStub(channel);

        node1 = startAgent("node-1", pinPrefix(1), manifests);
        node2 = startAgent("node-2", pinPrefix(2), manifests);
    }

    /** Pin prefixes end in "-<lab prefix>", so the lab's stale-state reaper removes them if this JVM dies. */
    static String pinPrefix(int node) {
        return "n" + node + "-" + lab.prefix();
    }

    static Agent startAgent(String node, String pinPrefix, Path manifests) throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool-" + node));
        return new Agent(AgentOptions.parse(new String[] {
                "--node-name", node, "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                "--pin-prefix", pinPrefix, "--relay", "127.0.0.1:" + relayPort, "--spool-dir", spool.toString(),
                "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0", "--cleanup-on-exit"}, Map.of()));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        // every step runs even when an earlier one fails; the first failure is rethrown
        List<Throwable> errors = new ArrayList<>();
        step(errors, () -> { if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS); });
        step(errors, () -> { if (node1 != null) node1.close(); });
        step(errors, () -> { if (node2 != null) node2.close(); });
        step(errors, () -> { if (relay != null) relay.close(); });
        step(errors, () -> { if (store != null) store.close(); });
        step(errors, () -> servers.forEach(BackgroundProcess::close));
        step(errors, () -> { if (lab != null) lab.close(); }); // namespaces, and with them every veth and tc filter
        step(errors, () -> { if (lab != null) Datapath.unpinAll(DatapathConfig.of(pinPrefix(1))); });
        step(errors, () -> { if (lab != null) Datapath.unpinAll(DatapathConfig.of(pinPrefix(2))); });
        step(errors, () -> { if (dir != null) deleteTree(dir); });
        if (!errors.isEmpty()) {
            Throwable first = errors.getFirst();
            errors.stream().skip(1).forEach(first::addSuppressed);
            if (first instanceof Exception e) throw e;
            throw (Error) first;
        }
    }

    interface Step {
        void run() throws Exception;
    }

    static void step(List<Throwable> errors, Step s) {
        try {
            s.run();
        } catch (Throwable t) {
            errors.add(t);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    // ---- the checks -------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void oneGetFlowsThroughTheRelayReturnsBothNodesFlowsInTimeOrder() throws Exception {
        assertThat(Traffic.tcp(web, API, 8080, ALLOWED)).as("web -> api:8080 (allow-web-to-api)").isEqualTo(Traffic.Outcome.PASSED);
        assertThat(Traffic.tcp(api, WEB, 8080, ALLOWED)).as("api -> web:8080 (web has no policy)").isEqualTo(Traffic.Outcome.PASSED);
        assertThat(Traffic.tcp(web, API, 9090, DENIED)).as("web -> api:9090 (no rule: default deny)").isEqualTo(Traffic.Outcome.TIMED_OUT);
        assertThat(Traffic.tcp(tool, DB, 5432, DENIED)).as("tool -> db:5432 (ingress deny rule)").isEqualTo(Traffic.Outcome.TIMED_OUT);
        assertThat(Traffic.tcp(tool, API, 8080, DENIED)).as("tool -> api:8080 (egress deny rule)").isEqualTo(Traffic.Outcome.TIMED_OUT);

        // what each verdict must look like at the relay; the agents push asynchronously, so poll for it
        List<Predicate<Flow>> expected = List.of(
                f -> is(f, "node-2", "web", "api", 8080, Verdict.FORWARDED, TrafficDirection.INGRESS)
                        && f.getIngressAllowedByList().stream().anyMatch(p -> p.getName().equals("allow-web-to-api")),
                f -> is(f, "node-1", "web", "api", 8080, Verdict.FORWARDED, TrafficDirection.EGRESS),
                f -> is(f, "node-1", "api", "web", 8080, Verdict.FORWARDED, TrafficDirection.INGRESS),
                f -> is(f, "node-2", "api", "web", 8080, Verdict.FORWARDED, TrafficDirection.EGRESS),
                f -> is(f, "node-2", "web", "api", 9090, Verdict.DROPPED, TrafficDirection.INGRESS)
                        && f.getDropReasonDescValue() == 133 && f.getIngressDeniedByCount() == 0,
                f -> is(f, "node-1", "tool", "db", 5432, Verdict.FORWARDED, TrafficDirection.EGRESS),
                f -> is(f, "node-2", "tool", "db", 5432, Verdict.DROPPED, TrafficDirection.INGRESS)
                        && f.getDropReasonDescValue() == 181
                        && f.getIngressDeniedByList().stream().anyMatch(p -> p.getName().equals("db-access") && p.getNamespace().equals("shop")),
                f -> is(f, "node-1", "tool", "api", 8080, Verdict.DROPPED, TrafficDirection.EGRESS)
                        && f.getDropReasonDescValue() == 181
                        && f.getEgressDeniedByList().stream().anyMatch(p -> p.getName().equals("tool-egress") && p.getNamespace().equals("shop")));
        List<Flow> flows = awaitRelay(all -> expected.stream().allMatch(e -> all.stream().anyMatch(e)), Duration.ofSeconds(15));
        for (int i = 0; i < expected.size(); i++) {
            assertThat(flows).as("expected flow #%d in the relay's answer", i).anyMatch(expected.get(i));
        }
        assertThat(flows).extracting(Flow::getNodeName).contains("node-1", "node-2").containsOnly("node-1", "node-2");
        assertThat(flows).extracting(Flow::getVerdict).contains(Verdict.FORWARDED, Verdict.DROPPED);
        assertTimeOrdered(flows);
        // no tool -> api flow was ever seen by node-2: the egress deny stopped it on node-1
        assertThat(flows).noneMatch(f -> f.getNodeName().equals("node-2") && pod(f.getSource()).equals("tool")
                && pod(f.getDestination()).equals("api"));
    }

    @Test
    @Order(2)
    void afterARelayOutageTheStoreHoldsEveryFlowExactlyOnce() throws Exception {
        // the relay dies with batches of both nodes stored but not acknowledged
        firstRelayStore.ackless = true;
        assertThat(Traffic.tcp(web, API, 8080, ALLOWED)).isEqualTo(Traffic.Outcome.PASSED);
        awaitTrue("a batch of each node stored, its ack held back", Duration.ofSeconds(10),
                () -> firstRelayStore.swallowed.containsAll(List.of("node-1", "node-2")));
        long reconnects1 = node1.relay().reconnects(), reconnects2 = node2.relay().reconnects();
        long acked1 = node1.relay().ackedBatches(), acked2 = node2.relay().ackedBatches();
        relay.close();
        relay = null;

        // the relay is down: the agents keep enforcing and keep their flows
        for (int i = 0; i < 3; i++) {
            assertThat(Traffic.tcp(web, API, 8080, ALLOWED)).as("allowed while the relay is down").isEqualTo(Traffic.Outcome.PASSED);
            assertThat(Traffic.tcp(api, WEB, 8080, ALLOWED)).as("allowed while the relay is down").isEqualTo(Traffic.Outcome.PASSED);
            assertThat(Traffic.tcp(tool, DB, 5432, DENIED)).as("denied while the relay is down").isEqualTo(Traffic.Outcome.TIMED_OUT);
        }
        // both agents lost their stream and hold what they made meanwhile, unacknowledged
        awaitTrue("both agents retry and spool while the relay is down", Duration.ofSeconds(10), () ->
                node1.relay().reconnects() > reconnects1 && node2.relay().reconnects() > reconnects2
                        && node1.relay().pendingBatches() > 0 && node2.relay().pendingBatches() > 0);

        relay = new Relay(store, relayPort); // back on the same port, over the same store (acknowledging again)
        assertThat(Traffic.tcp(web, API, 8080, ALLOWED)).isEqualTo(Traffic.Outcome.PASSED);
        assertThat(Traffic.tcp(web, API, 9090, DENIED)).isEqualTo(Traffic.Outcome.TIMED_OUT);

        // wait for both agents to have everything acknowledged and the relay to hold what their buffers hold
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Set<String> atNodes, atRelay;
        List<Flow> relayFlows;
        while (true) {
            boolean flushed = node1.relay().flush(Duration.ofSeconds(2)) & node2.relay().flush(Duration.ofSeconds(2));
            atNodes = new HashSet<>(uuids(node1.ring()));
            atNodes.addAll(uuids(node2.ring()));
            relayFlows = getAllFlows();
            atRelay = relayFlows.stream().map(Flow::getUuid).collect(Collectors.toSet());
            if (flushed && node1.relay().pendingBatches() == 0 && node2.relay().pendingBatches() == 0 && atRelay.equals(atNodes)) break;
            assertThat(System.nanoTime()).as("relay to catch up: %d flows at the nodes, %d at the relay, pending %d + %d",
                    atNodes.size(), atRelay.size(), node1.relay().pendingBatches(), node2.relay().pendingBatches()).isLessThan(deadline);
        }
        assertThat(node1.ring().seen()).as("node-1's buffer never wrapped").isLessThanOrEqualTo(node1.ring().capacity());
        assertThat(node2.ring().seen()).as("node-2's buffer never wrapped").isLessThanOrEqualTo(node2.ring().capacity());
        assertThat(node1.relay().lostFlows() + node2.relay().lostFlows()).as("flows the agents gave up on").isZero();
        assertThat(relayFlows).as("flows at the relay, each once").hasSize(atNodes.size());
        assertThat(relayFlows.stream().map(Flow::getUuid).distinct().count()).as("distinct uuids at the relay").isEqualTo(relayFlows.size());
        assertThat(atRelay).isEqualTo(atNodes);
        assertThat(store.size()).isEqualTo(atNodes.size());
        assertThat(node1.relay().ackedBatches()).as("node-1 batches acknowledged after the outage").isGreaterThan(acked1);
        assertThat(node2.relay().ackedBatches()).as("node-2 batches acknowledged after the outage").isGreaterThan(acked2);
        // the batches stored without an ack were resent, recognised and not stored again
        assertThat(relay.metrics.batchesByStatus.getOrDefault("STATUS_DUPLICATE", new java.util.concurrent.atomic.AtomicLong()).get())
                .as("resent batches the store already held").isGreaterThanOrEqualTo(firstRelayStore.swallowedBatches.get());
        System.out.printf("e2e: %d flows (node-1 %d, node-2 %d), reconnects %d/%d, acked batches %d/%d, resent after the outage %s%n",
                atNodes.size(), node1.ring().seen(), node2.ring().seen(), node1.relay().reconnects(), node2.relay().reconnects(),
                node1.relay().ackedBatches(), node2.relay().ackedBatches(), relay.metrics.batchesByStatus);
        assertTimeOrdered(relayFlows);
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    static boolean is(Flow f, String node, String src, String dst, int dport, Verdict v, TrafficDirection dir) {
        return f.getNodeName().equals(node) && pod(f.getSource()).equals(src) && pod(f.getDestination()).equals(dst)
                && f.getL4().getTCP().getDestinationPort() == dport && f.getVerdict() == v && f.getTrafficDirection() == dir;
    }

    /** The pod name of a flow endpoint in namespace shop, or "". */
    static String pod(dev.sieve.api.flow.Endpoint e) {
        return e.getNamespace().equals("shop") ? e.getPodName() : "";
    }

    static void assertTimeOrdered(List<Flow> flows) {
        for (int i = 1; i < flows.size(); i++) {
            long a = nanos(flows.get(i - 1)), b = nanos(flows.get(i));
            assertThat(b).as("flow %d (%s) is not older than flow %d", i, flows.get(i).getUuid(), i - 1).isGreaterThanOrEqualTo(a);
        }
    }

    static long nanos(Flow f) {
        return f.getTime().getSeconds() * 1_000_000_000L + f.getTime().getNanos();
    }

    /** Every flow in a node's buffer (capacity 65,536, far more than this test makes). */
    static List<String> uuids(FlowRing ring) {
        List<String> out = new ArrayList<>();
        for (long s = ring.oldestSeq(); s < ring.nextSeq(); s++) {
            FlowRing.Entry e = ring.get(s);
            if (e != null) out.add(e.flow().getUuid());
        }
        return out;
    }

    /** One GetFlows through the relay, as {@code hubble observe --all} sends it (number = 2^64-1). */
    static List<Flow> getAllFlows() {
        GetFlowsRequest req = GetFlowsRequest.newBuilder().setNumber(-1L).build();
        List<Flow> out = new ArrayList<>();
        Iterator<GetFlowsResponse> it = observer.withDeadlineAfter(10, TimeUnit.SECONDS).getFlows(req);
        while (it.hasNext()) {
            GetFlowsResponse r = it.next();
            if (r.hasFlow()) {
                assertThat(r.getNodeName()).isEqualTo(r.getFlow().getNodeName());
                out.add(r.getFlow());
            }
        }
        return out;
    }

    static void awaitTrue(String what, Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for: %s", what).isLessThan(deadline);
            Thread.sleep(20); // poll interval of a condition with a deadline
        }
    }

    /** Polls the relay until {@code done} holds for its answer (returned), failing after {@code timeout}. */
    static List<Flow> awaitRelay(Predicate<List<Flow>> done, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Flow> flows = getAllFlows();
            if (done.test(flows)) return flows;
            if (System.nanoTime() > deadline) return flows; // the caller's assertions say what is missing
            node1.relay().flush(Duration.ofMillis(500));
            node2.relay().flush(Duration.ofMillis(500));
        }
    }

    // ---- manifests ----------------------------------------------------------------------------------------

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: shop, labels: {app: web}}
            spec: {nodeName: node-1}
            status: {podIP: %s}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: tool, namespace: shop, labels: {app: tool}}
            spec: {nodeName: node-1}
            status: {podIP: %s}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: api, namespace: shop, labels: {app: api}}
            spec: {nodeName: node-2}
            status: {podIP: %s}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: db, namespace: shop, labels: {app: db}}
            spec: {nodeName: node-2}
            status: {podIP: %s}
            """.formatted(WEB, TOOL, API, DB);

    /**
     * api takes 8080 from web only (so web -> api:9090 and tool -> api:8080 hit default deny); db takes 5432
     * from the namespace except tool (a deny rule); tool may reach anything but api:8080 (an egress deny rule).
     */
    static final String POLICIES = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: allow-web-to-api, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: api}}
              ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                  toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: db-access, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: db}}
              ingress:
                - fromEndpoints: [{}]
                  toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
              ingressDeny:
                - fromEndpoints: [{matchLabels: {app: tool}}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: tool-egress, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: tool}}
              egress:
                - toEndpoints: [{}]
              egressDeny:
                - toEndpoints: [{matchLabels: {app: api}}]
                  toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
            """;
}
