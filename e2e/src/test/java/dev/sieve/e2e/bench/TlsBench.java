package dev.sieve.e2e.bench;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.observer.tls.GrpcTls;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.tls.CertificateGenerator;
import dev.sieve.tls.ClientTls;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What TLS costs (scripts/bench-tls.sh): the same real {@code bin/sieve-relay} (memory store, so the store does not
 * hide the transport) run twice, plaintext and with mTLS ingest (node certificates from {@link CertificateGenerator}),
 * alternating rounds: push ingest throughput with the agent's own {@link RelayPusher} on several streams, then GetFlows
 * latency (last 1000) with and without TLS.
 *
 * <p>Args: the output JSON. Knobs: {@code -Dbench.tls.streams} (4), {@code -Dbench.tls.seconds} (10 measured per
 * round), {@code -Dbench.tls.rounds} (2 per mode), {@code -Dbench.tls.queries} (100).
 */
public final class TlsBench {
    record Round(String mode, double flowsPerSecond, double p50Ms, double p99Ms) {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "tls.json");
        Path home = Path.of(System.getProperty("bench.tls.home", ".")).toAbsolutePath();
        int streams = Integer.getInteger("bench.tls.streams", 4), seconds = Integer.getInteger("bench.tls.seconds", 10);
        int rounds = Integer.getInteger("bench.tls.rounds", 2), queries = Integer.getInteger("bench.tls.queries", 100);
        Path tmp = Files.createTempDirectory("sieve-tls-bench-");
        try {
            List<String> nodes = new ArrayList<>();
            for (int s = 0; s < streams; s++) nodes.add("node-" + s);
            CertificateGenerator.generate(new CertificateGenerator.Options(tmp.resolve("certs"), "relay.bench", nodes, Duration.ofDays(1), List.of()));
            List<List<Flow>> flows = new ArrayList<>();
            long start = Timestamps.nanos(Instant.now().minusSeconds(3600));
            for (int s = 0; s < streams; s++) flows.add(new TestFlows(100 + s, "node-" + s, start).next(20_000));
            List<Round> results = new ArrayList<>();
            for (int r = 0; r < rounds; r++)
                for (boolean tls : new boolean[] {false, true}) results.add(round(home, tmp, tls, streams, seconds, queries, flows, r));
            StringBuilder json = new StringBuilder("{\n  \"machine\": \"shared 2-core machine, other helpers' builds and tests running: indicative\",\n");
            json.append(String.format(Locale.ROOT, "  \"streams\": %d, \"seconds_per_round\": %d, \"rounds_per_mode\": %d, \"store\": \"memory\",%n", streams, seconds, rounds));
            double plain = median(results, false, Round::flowsPerSecond), mtls = median(results, true, Round::flowsPerSecond);
            json.append(String.format(Locale.ROOT, "  \"ingest_plaintext_flows_per_s\": %.0f,%n  \"ingest_mtls_flows_per_s\": %.0f,%n  \"ingest_mtls_vs_plaintext\": %.3f,%n",
                    plain, mtls, mtls / plain));
            json.append(String.format(Locale.ROOT, "  \"getflows_last1000_plaintext_p50_ms\": %.2f,%n  \"getflows_last1000_tls_p50_ms\": %.2f,%n",
                    median(results, false, Round::p50Ms), median(results, true, Round::p50Ms)));
            json.append(String.format(Locale.ROOT, "  \"getflows_last1000_plaintext_p99_ms\": %.2f,%n  \"getflows_last1000_tls_p99_ms\": %.2f,%n",
                    median(results, false, Round::p99Ms), median(results, true, Round::p99Ms)));
            json.append("  \"rounds\": [\n");
            for (int i = 0; i < results.size(); i++) {
                Round x = results.get(i);
                json.append(String.format(Locale.ROOT, "    {\"mode\": \"%s\", \"flows_per_s\": %.0f, \"getflows_p50_ms\": %.2f, \"getflows_p99_ms\": %.2f}%s%n",
                        x.mode(), x.flowsPerSecond(), x.p50Ms(), x.p99Ms(), i + 1 < results.size() ? "," : ""));
            }
            json.append("  ]\n}\n");
            Files.writeString(out, json);
            System.out.print(json);
        } finally {
            try (var walk = Files.walk(tmp)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    static double median(List<Round> rs, boolean tls, java.util.function.ToDoubleFunction<Round> f) {
        double[] v = rs.stream().filter(r -> r.mode().equals(tls ? "mtls" : "plaintext")).mapToDouble(f).sorted().toArray();
        return v.length == 0 ? 0 : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static Round round(Path home, Path tmp, boolean tls, int streams, int seconds, int queries, List<List<Flow>> flows, int r) throws Exception {
        Path certs = tmp.resolve("certs");
        int grpc = ClickHouseServer.freePort(), http = ClickHouseServer.freePort();
        List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/sieve-relay").toString(), "--store", "memory",
                "--grpc-address", "127.0.0.1:" + grpc, "--http-address", "127.0.0.1:" + http));
        if (tls) cmd.addAll(List.of("--tls-cert-file", certs.resolve("relay.crt").toString(), "--tls-key-file", certs.resolve("relay.key").toString(),
                "--ingest-client-ca-files", certs.resolve("ca.crt").toString()));
        Path log = tmp.resolve("relay-" + (tls ? "mtls" : "plain") + "-" + r + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SIEVE_RELAY_JAVA_OPTS", "-Xmx2g");
        Process relay = pb.start();
        try {
            awaitPort(relay, grpc, log);
            List<RelayPusher> pushers = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                ClientTls ct = tls ? new ClientTls(List.of(certs.resolve("ca.crt")), certs.resolve("nodes/node-" + s + ".crt"),
                        certs.resolve("nodes/node-" + s + ".key"), "relay.bench", false) : null;
                pushers.add(new RelayPusher("127.0.0.1:" + grpc, "node-" + s, tmp.resolve("spool-" + r + (tls ? "t" : "p") + s), 1L << 30,
                        new RelayPusher.Settings(2000, Duration.ofMinutes(10), 16, Duration.ofSeconds(1)), ct));
            }
            int warmup = 5;
            long end = System.nanoTime() + Duration.ofSeconds(warmup + seconds).toNanos();
            List<Thread> feeders = new ArrayList<>();
            AtomicLong offered = new AtomicLong();
            for (int s = 0; s < streams; s++) {
                RelayPusher p = pushers.get(s);
                List<Flow> fs = flows.get(s);
                feeders.add(Thread.ofPlatform().start(() -> {
                    int i = 0;
                    while (System.nanoTime() < end) {
                        if (p.pendingBatches() >= 16) {
                            try { Thread.sleep(1); } catch (InterruptedException e) { return; }
                            continue;
                        }
                        for (int k = 0; k < 2000; k++) p.offer(fs.get(i++ % fs.size()));
                        offered.addAndGet(2000);
                    }
                }));
            }
            Thread.sleep(Duration.ofSeconds(warmup));
            long a0 = 0;
            for (RelayPusher p : pushers) a0 += p.ackedBatches();
            long t0 = System.nanoTime();
            for (Thread t : feeders) t.join();
            long a1 = -a0;
            for (RelayPusher p : pushers) a1 += p.ackedBatches();
            double secs = (System.nanoTime() - t0) / 1e9;
            for (RelayPusher p : pushers) {
                if (!p.flush(Duration.ofSeconds(60))) throw new IllegalStateException("not every flow acknowledged");
                if (p.lostFlows() != 0) throw new IllegalStateException("flows lost");
                p.close();
            }
            double rate = a1 * 2000 / secs;
            // GetFlows latency: TLS to the Observer API when the relay speaks TLS (no client certificate needed there)
            var b = NettyChannelBuilder.forAddress("127.0.0.1", grpc).maxInboundMessageSize(64 << 20);
            if (tls) b.sslContext(GrpcTls.client(new ClientTls(List.of(certs.resolve("ca.crt")), null, null, "relay.bench", false)))
                    .overrideAuthority("relay.bench");
            else b.usePlaintext();
            ManagedChannel ch = b.build();
            double[] ms = new double[queries];
            try {
                var stub = ObserverGrpc.newBlockingStub(ch);
                GetFlowsRequest req = GetFlowsRequest.newBuilder().setNumber(1000).build();
                for (int i = -10; i < queries; i++) { // ten warm-up calls
                    long q0 = System.nanoTime();
                    var it = stub.withDeadlineAfter(30, TimeUnit.SECONDS).getFlows(req);
                    int n = 0;
                    while (it.hasNext()) {
                        it.next();
                        n++;
                    }
                    if (n != 1000) throw new IllegalStateException("GetFlows returned " + n);
                    if (i >= 0) ms[i] = (System.nanoTime() - q0) / 1e6;
                }
            } finally {
                ch.shutdownNow();
            }
            Arrays.sort(ms);
            Round res = new Round(tls ? "mtls" : "plaintext", rate, ms[ms.length / 2], ms[Math.min(ms.length - 1, (int) Math.ceil(ms.length * 0.99) - 1)]);
            System.err.printf(Locale.ROOT, "round %d %s: %.0f flows/s, GetFlows last 1000 p50 %.2f ms p99 %.2f ms%n", r, res.mode(), rate, res.p50Ms(), res.p99Ms());
            return res;
        } finally {
            relay.destroy();
            if (!relay.waitFor(20, TimeUnit.SECONDS)) relay.destroyForcibly().waitFor();
        }
    }

    static void awaitPort(Process p, int port, Path log) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < end) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException e) {
                if (!p.isAlive()) throw new IllegalStateException("the relay exited: " + Files.readString(log));
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("the relay did not listen within 120 s");
    }
}
