package dev.sieve.e2e.bench;

import dev.sieve.api.flow.Flow;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Ingest into ClickHouse through the real path (scripts/bench-relay-push.sh): a real {@code bin/sieve-relay}
 * process ({@code --store clickhouse}) on free ports, a ClickHouse 18.16 server started here, and
 * the agent's own push client ({@link RelayPusher}) on several streams (one pusher per node), each
 * fed as fast as its spool takes flows. Measures the flows acknowledged per second over the window
 * and checks that ClickHouse holds every acknowledged flow and that no flow was lost.
 *
 * <p>Args: the relay's home (whose {@code bin/sieve-relay} runs; e.g. a worktree of an older commit) and
 * the output JSON. Knobs: {@code -Dbench.push.streams} (8), {@code -Dbench.push.seconds} (20),
 * {@code -Dbench.push.batch-flows} (5000), {@code -Dbench.push.window} (16), {@code -Dbench.push.warmup-seconds}
 * (10: pushed but not measured).
 */
public final class RelayPushBench {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath();
        Path out = Path.of(args.length > 1 ? args[1] : "relay-push.json");
        int streams = Integer.getInteger("bench.push.streams", 8), seconds = Integer.getInteger("bench.push.seconds", 20);
        int batchFlows = Integer.getInteger("bench.push.batch-flows", 5000), window = Integer.getInteger("bench.push.window", 16);
        int warmup = Integer.getInteger("bench.push.warmup-seconds", 10);
        long start = Timestamps.nanos(Instant.parse("2026-11-20T00:00:00Z"));
        List<List<Flow>> flows = new ArrayList<>();
        for (int s = 0; s < streams; s++) flows.add(new TestFlows(100 + s, "node-" + s, start).next(50_000));
        Path tmp = Files.createTempDirectory("sieve-push-bench-");
        Process relay = null;
        try (ClickHouseServer ch = new ClickHouseServer().start()) {
            int grpc = ClickHouseServer.freePort(), http = ClickHouseServer.freePort();
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/sieve-relay").toString(), "--store", "clickhouse", "--clickhouse-url", ch.url(),
                    "--clickhouse-database", "pushbench", "--grpc-address", "127.0.0.1:" + grpc, "--http-address", "127.0.0.1:" + http)
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("relay.log").toFile());
            pb.environment().put("SIEVE_RELAY_JAVA_OPTS", System.getProperty("bench.push.relay-opts", "-Xmx2g"));
            relay = pb.start();
            HttpClient hc = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (true) {
                try {
                    if (hc.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) break;
                } catch (java.io.IOException e) {
                    // not up yet
                }
                if (System.nanoTime() > deadline || !relay.isAlive()) throw new IllegalStateException("relay did not get ready: see " + tmp.resolve("relay.log"));
                Thread.sleep(200);
            }
            List<RelayPusher> pushers = new ArrayList<>();
            for (int s = 0; s < streams; s++)
                pushers.add(new RelayPusher("127.0.0.1:" + grpc, "node-" + s, tmp.resolve("spool-" + s), 4L << 30,
                        // batches sealed by count only (no age), so every acknowledged batch in the window holds batchFlows flows
                        new RelayPusher.Settings(batchFlows, Duration.ofMinutes(10), window, Duration.ofSeconds(1))));
            java.util.concurrent.atomic.AtomicLong offered = new java.util.concurrent.atomic.AtomicLong();
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long begin = System.nanoTime(), end = begin + Duration.ofSeconds(warmup + seconds).toNanos();
            List<Thread> feeders = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                RelayPusher p = pushers.get(s);
                List<Flow> fs = flows.get(s);
                // as fast as the spool takes them: at most a window of batches waiting, all in the spool's memory (never a flow dropped)
                feeders.add(Thread.ofPlatform().start(() -> {
                    int i = 0;
                    while (System.nanoTime() < end) {
                        if (p.pendingBatches() >= window) {
                            try { Thread.sleep(1); } catch (InterruptedException e) { return; }
                            continue;
                        }
                        for (int k = 0; k < batchFlows; k++) p.offer(fs.get(i++ % fs.size()));
                        offered.addAndGet(batchFlows);
                    }
                }));
            }
            // the measured window starts after the warm-up (JIT, connections, first inserts)
            Thread.sleep(Duration.ofSeconds(warmup));
            long ackedAtStart = 0;
            for (RelayPusher p : pushers) ackedAtStart += p.ackedBatches();
            long relayCpu0 = cpuMicros(relay.pid()), chCpu0 = cpuMicros(ch.pid()), loadCpu0 = os.getProcessCpuTime() / 1000;
            long t0 = System.nanoTime();
            for (Thread t : feeders) t.join();
            long ackedAtEnd = -ackedAtStart;
            for (RelayPusher p : pushers) ackedAtEnd += p.ackedBatches();
            double secs = (System.nanoTime() - t0) / 1e9;
            long relayCpu = cpuMicros(relay.pid()) - relayCpu0, chCpu = cpuMicros(ch.pid()) - chCpu0, loadCpu = os.getProcessCpuTime() / 1000 - loadCpu0;
            long lost = 0;
            for (RelayPusher p : pushers) {
                if (!p.flush(Duration.ofSeconds(120))) throw new IllegalStateException("not every flow was acknowledged within 120 s");
                lost += p.lostFlows();
            }
            long ackedFlowsInWindow = ackedAtEnd * batchFlows;
            String count = hc.send(HttpRequest.newBuilder(URI.create(ch.url() + "/")).POST(HttpRequest.BodyPublishers.ofString("SELECT count() FROM pushbench.flows")).build(),
                    HttpResponse.BodyHandlers.ofString()).body().trim();
            long stored = Long.parseLong(count);
            for (RelayPusher p : pushers) p.close();
            if (lost != 0) throw new IllegalStateException(lost + " flows lost");
            if (stored != offered.get()) throw new IllegalStateException("pushed " + offered.get() + " flows, all acknowledged, ClickHouse holds " + stored);
            String json = String.format(Locale.ROOT, """
                {
                  "relay_home": "%s",
                  "streams": %d,
                  "batch_flows": %d,
                  "window_batches": %d,
                  "measured_seconds": %.1f,
                  "clickhouse_push_ingest_flows_per_s": %.0f,
                  "flows_stored": %d,
                  "flows_lost": %d,
                  "relay_cpu_us_per_flow": %.2f,
                  "clickhouse_cpu_us_per_flow": %.2f,
                  "load_generator_cpu_us_per_flow": %.2f
                }
                """, home, streams, batchFlows, window, secs, ackedFlowsInWindow / secs, stored, lost, relayCpu / (double) ackedFlowsInWindow,
                    chCpu / (double) ackedFlowsInWindow, loadCpu / (double) ackedFlowsInWindow);
            Files.writeString(out, json);
            System.out.print(json);
        } finally {
            if (relay != null) {
                relay.destroy();
                if (!relay.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) relay.destroyForcibly();
            }
            Files.copy(tmp.resolve("relay.log"), Path.of(out + ".relay.log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (var walk = Files.walk(tmp)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A process's CPU time (user + system) so far in µs, from /proc; -1 when unknown. */
    static long cpuMicros(long pid) {
        try {
            long total = 0;
            // the process and its children's threads are in its own stat (threads count towards the process)
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000L;
            return total;
        } catch (Exception e) {
            return -1;
        }
    }
}
