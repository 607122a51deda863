package dev.sieve.bench;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import dev.sieve.observer.server.ObserverServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The observer's hot paths: verdict event -> enriched Hubble flow (goal: 500,000 flows/s or more on one
 * core), and GetFlows over a full 65,536-flow buffer with a filter, over real gRPC on loopback (goal: under
 * 20 ms).
 */
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ObserverBenchmark {

    static final int PEERS = 64;

    static StaticResolver resolver() {
        StaticResolver r = new StaticResolver().identity(2, "reserved:world");
        for (int i = 0; i < PEERS; i++) {
            String ns = i % 4 == 0 ? "production" : "shop";
            r.identity(1000 + i, "k8s:app=app" + i, "k8s:io.kubernetes.pod.namespace=" + ns, "k8s:tier=t" + (i % 3));
            r.pod("10.0." + (i / 200) + "." + (i % 200 + 1), ns, "app" + i + "-7d4b9c8f6d-x2x9k", new EndpointResolver.Workload("app" + i, "Deployment"));
        }
        for (int rule = 1; rule <= 16; rule++) {
            r.rule(rule, new EndpointResolver.PolicyRef("CiliumNetworkPolicy", "shop", "policy-" + rule,
                    List.of("k8s:io.cilium.k8s.policy.name=policy-" + rule), 1, rule > 12));
        }
        return r;
    }

    /** A realistic mix: 60% new TCP connections, 20% established/replies, 10% drops, 5% UDP, 5% ICMP. */
    static VerdictEvent[] events(int n, long t0, long stepNs) {
        VerdictEvent[] out = new VerdictEvent[n];
        for (int i = 0; i < n; i++) {
            int a = i % PEERS, b = (i * 7 + 3) % PEERS;
            byte[] src = {10, 0, 0, (byte) (a + 1)}, dst = {10, 0, 0, (byte) (b + 1)};
            int kind = i % 20;
            int proto = kind == 18 ? 17 : kind == 19 ? 1 : 6;
            boolean drop = kind >= 16 && kind < 18;
            int flags = kind < 12 ? VerdictEvent.FLAG_NEW : kind < 16 ? VerdictEvent.FLAG_REPLY : VerdictEvent.FLAG_NEW;
            out[i] = new VerdictEvent(t0 + i * stepNs, 4, src, dst, 30000 + (i % 20000), proto == 1 ? 0 : 8080 + (i % 3), proto,
                    1000 + a, 1000 + b, drop ? VerdictEvent.DROPPED : VerdictEvent.FORWARDED, drop ? VerdictEvent.POLICY_DENIED : 0,
                    drop ? 13 : 1 + (i % 12), i % 2 == 0 ? Direction.INGRESS : Direction.EGRESS, proto == 6 ? 0x02 : 0, flags,
                    proto == 1 ? 8 : 0, 0, 60, 3, 17, 0);
        }
        return out;
    }

    @State(Scope.Thread)
    public static class EnrichState {
        FlowEnricher enricher;
        VerdictEvent[] events;
        int i;

        @Setup(Level.Trial)
        public void setup() {
            enricher = new FlowEnricher(resolver(), "node-1", FlowEnricher.monotonicToEpoch());
            events = events(4096, System.nanoTime(), 1000);
        }
    }

    /** One verdict event to one enriched flow (ops/s = flows/s on one core). */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public Flow enrich(EnrichState s) {
        VerdictEvent e = s.events[s.i++ & 4095];
        return s.enricher.enrich(e);
    }

    /** Enrich and append to the ring: the node's whole per-event path after decoding. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public long enrichAndAppend(EnrichAppendState s) {
        return s.ring.append(s.enricher.enrich(s.events[s.i++ & 4095]));
    }

    @State(Scope.Thread)
    public static class EnrichAppendState extends EnrichState {
        FlowRing ring = new FlowRing();
    }

    @State(Scope.Benchmark)
    public static class ServerState {
        ObserverServer server;
        ManagedChannel channel;
        ObserverGrpc.ObserverBlockingStub stub;
        GetFlowsRequest selective;
        GetFlowsRequest last100;

        @Setup(Level.Trial)
        public void setup() throws Exception {
            FlowRing ring = new FlowRing(FlowRing.DEFAULT_CAPACITY);
            FlowEnricher en = new FlowEnricher(resolver(), "node-1", ts -> ts);
            long t0 = 1_700_000_000_000_000_000L;
            for (VerdictEvent e : events(FlowRing.DEFAULT_CAPACITY, t0, 1_000_000)) ring.append(en.enrich(e));
            server = ObserverServer.start(new InetSocketAddress("127.0.0.1", 0), ring, "node-1", "bench");
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            stub = ObserverGrpc.newBlockingStub(channel);
            // dropped flows to production pods: the whole buffer is scanned, ~2.5% match and are streamed
            selective = GetFlowsRequest.newBuilder()
                    .addWhitelist(FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).addDestinationPod("production/"))
                    .build();
            // hubble observe's default: the last 20 matching a label selector and a port
            last100 = GetFlowsRequest.newBuilder().setNumber(100)
                    .addWhitelist(FlowFilter.newBuilder().addSourceLabel("k8s:tier in (t1)").addDestinationPort("8081"))
                    .build();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            channel.shutdownNow();
            server.close();
        }
    }

    static int drain(Iterator<GetFlowsResponse> it) {
        int n = 0;
        while (it.hasNext()) {
            it.next();
            n++;
        }
        return n;
    }

    /** GetFlows over the full 65,536-flow buffer with a selective filter, every match streamed. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public int getFlowsFullBufferFiltered(ServerState s) {
        return drain(s.stub.getFlows(s.selective));
    }

    /** GetFlows --last 100 with a label selector and a port over the full buffer. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public int getFlowsLast100Filtered(ServerState s) {
        return drain(s.stub.getFlows(s.last100));
    }
}
