package dev.sieve.relay.bench;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.EncodedBatch;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whole-process relay benchmarks (scripts/bench-relay.sh): memory-store filtered queries over 1M
 * flows, sustained ingest into a real ClickHouse started on a free port, and "verdict DROPPED, last
 * 100" over 10M stored flows. Prints figures and writes them as JSON to the file given as arg 0.
 */
public final class RelayBench {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-20T00:00:00Z"));
    static final Map<String, Object> results = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "relay.json");
        long memFlows = Long.getLong("bench.memory.flows", 1_000_000);
        int ingestSeconds = Integer.getInteger("bench.ingest.seconds", 20);
        long chTotal = Long.getLong("bench.clickhouse.flows", 10_000_000);
        results.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("java.version"));
        memory(memFlows);
        if (Boolean.getBoolean("bench.memory-only")) {
            // no ClickHouse part
        } else if (System.getProperty("bench.clickhouse.url") != null) {
            clickhouse(new External(System.getProperty("bench.clickhouse.url"), Long.getLong("bench.clickhouse.pid", -1)), ingestSeconds, chTotal);
        } else {
            try (ClickHouseServer ch = new ClickHouseServer().start()) {
                clickhouse(new External(ch.url(), ch.pid()), ingestSeconds, chTotal);
            }
        }
        StringBuilder j = new StringBuilder("{\n");
        int i = 0;
        for (var e : results.entrySet()) {
            j.append("  \"").append(e.getKey()).append("\": ");
            Object v = e.getValue();
            j.append(v instanceof Number ? String.format(Locale.ROOT, "%.2f", ((Number) v).doubleValue()) : "\"" + v + "\"");
            j.append(++i < results.size() ? ",\n" : "\n");
        }
        Files.writeString(out, j.append("}\n").toString());
        System.out.println("wrote " + out);
    }

    static void put(String k, Object v) {
        results.put(k, v);
        System.out.printf(Locale.ROOT, "%-58s %s%n", k, v instanceof Double d ? String.format(Locale.ROOT, "%.2f", d) : v);
    }

    interface Query {
        int run() throws Exception;
    }

    /** Median and p95 of {@code runs} timed runs after {@code warm} warm-up runs, in ms. */
    static double[] time(int warm, int runs, Query q) throws Exception {
        for (int i = 0; i < warm; i++) q.run();
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            q.run();
            ms[i] = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        return new double[] {ms[runs / 2], ms[(int) Math.min(runs - 1, Math.ceil(runs * 0.95) - 1)]};
    }

    static void memory(long n) throws Exception {
        System.out.println("== memory store (Arrow ring): " + n + " flows");
        MemoryFlowStore s = new MemoryFlowStore(n);
        // flows as the ingest service hands them over: encoded, as they arrived on the wire, 5,000 a batch
        TestFlows g = new TestFlows(42, "node-1", START);
        List<EncodedBatch> batches = new ArrayList<>();
        for (long i = 0; i < n; i += 5_000) {
            List<com.google.protobuf.ByteString> b = new ArrayList<>(5_000);
            for (int k = 0; k < 5_000 && i + k < n; k++) b.add(g.next().toByteString());
            batches.add(new EncodedBatch(b));
        }
        FlowStore.StreamKey key = new FlowStore.StreamKey("node-1", "bench");
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = System.nanoTime(), cpu0 = threads.getCurrentThreadCpuTime(), seq = 0, fseq = 1;
        for (EncodedBatch b : batches) {
            s.appendAsync(new FlowStore.Batch(key, ++seq, fseq, b, 0, false)).join();
            fseq += b.size();
        }
        put("memory_load_flows_per_s", n / ((System.nanoTime() - t0) / 1e9));
        // the loading thread's own CPU time, plus the store's reading thread's (it reads half of each batch):
        // what the figure would be on idle cores (the machine is shared)
        long cpu = threads.getCurrentThreadCpuTime() - cpu0;
        for (var t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith("sieve-memory-store-read")) cpu += threads.getThreadCpuTime(t.getThreadId());
        }
        put("memory_load_flows_per_cpu_s", n / (cpu / 1e9));
        batches = null;
        Map<String, FlowQuery> qs = new LinkedHashMap<>();
        qs.put("verdict_dropped_last_100", FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build()));
        qs.put("pod_and_port_last_1000", FlowQuery.last(1000, FlowFilter.newBuilder().addSourcePod("production/frontend").addDestinationPort("5432").build()));
        qs.put("dropped_to_namespace_first_100", FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).addDestinationPod("kube-system/").build()).withNumber(100, true));
        qs.put("rare_ip_all_matches", new FlowQuery(List.of(FlowFilter.newBuilder().addSourceIp("10.0.3.7").addDestinationIp("10.1.0.9").build()), List.of(), null, null, 0, false, false));
        qs.put("label_and_http_inexact_last_100", FlowQuery.last(100, FlowFilter.newBuilder().addSourceLabel("k8s:app=frontend").addHttpStatusCode("5+").build()));
        for (var e : qs.entrySet()) {
            int[] count = {0};
            double[] r = time(5, 21, () -> { count[0] = s.query(e.getValue()).size(); return count[0]; });
            put("memory_1m_" + e.getKey() + "_ms_median", r[0]);
            put("memory_1m_" + e.getKey() + "_ms_p95", r[1]);
            put("memory_1m_" + e.getKey() + "_results", (double) count[0]);
        }
        s.close();
    }

    /** A ClickHouse server reached over HTTP (started here, or given with -Dbench.clickhouse.url). */
    record External(String url, long pid) {
        /** The server's CPU time (user + system) so far in µs, from /proc; -1 when its pid is unknown. */
        long cpuMicros() {
            if (pid <= 0) return -1;
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000L; // utime + stime, 100 ticks/s
            } catch (Exception e) {
                return -1;
            }
        }

        String sql(String q) throws Exception {
            var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(q)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException(r.body());
            return r.body();
        }
    }

    static void clickhouse(External ch, int seconds, long total) throws Exception {
        ch.sql("DROP DATABASE IF EXISTS bench");
        System.out.println("== ClickHouse " + ch.sql("SELECT version()").trim() + " on " + ch.url());
        ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(ch.url(), "bench", "default", "", 3650, Duration.ofMillis(Integer.getInteger("bench.clickhouse.flush-ms", 1000)), 500_000,
                Integer.getInteger("bench.clickhouse.writers", ClickHouseFlowStore.DEFAULT_WRITERS)));
        s.migrate();
        // 200 distinct batches of 5,000 flows (1M flows), replayed by 8 streams with fresh positions
        int batchSize = 5000, distinct = 200, streams = 8, window = Integer.getInteger("bench.ingest.window", 16);
        // flows as the ingest service hands them over: encoded, as they arrived on the wire
        List<List<com.google.protobuf.ByteString>> wire = new ArrayList<>();
        TestFlows g = new TestFlows(7, "node-1", START);
        for (int i = 0; i < distinct; i++) wire.add(g.next(batchSize).stream().map(Flow::toByteString).toList());
        List<EncodedBatch> encoded = wire.subList(0, 20).stream().map(EncodedBatch::new).toList();
        double[] enc = time(3, 10, () -> { for (EncodedBatch b : encoded) ClickHouseFlowStore.encodeForBenchmark(b); return 0; });
        put("relay_rowbinary_encode_flows_per_s_one_thread", 100_000 / (enc[0] / 1000));
        // through the ingest path as the gRPC service drives it: frames (flows as bytes) into the processor
        var processor = new dev.sieve.relay.ingest.IngestProcessor(s, new dev.sieve.relay.ingest.LiveFlows(16),
                new dev.sieve.relay.nodes.NodeRegistry(java.time.Clock.systemUTC(), Duration.ofSeconds(60)), new dev.sieve.relay.metrics.RelayMetrics(),
                new dev.sieve.relay.ingest.IngestProcessor.Limits(10_000, 16 << 20));
        AtomicLong stored = new AtomicLong();
        Semaphore inflight = new Semaphore(streams * window);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long serverCpu0 = ch.cpuMicros(), jvmCpu0 = os.getProcessCpuTime();
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        long t0 = System.nanoTime();
        List<Thread> ts = new ArrayList<>();
        for (int st = 0; st < streams; st++) {
            int sid = st;
            ts.add(Thread.ofPlatform().start(() -> {
                long seq = 0, fseq = 1;
                try {
                    while (System.nanoTime() < end) {
                        List<com.google.protobuf.ByteString> b = wire.get((int) ((seq * streams + sid) % distinct));
                        inflight.acquire();
                        // the flows name node-1: streams differ by epoch, as restarts of one node would
                        var frame = dev.sieve.api.ingest.v1.FlowBatchFrame.newBuilder().setNodeName("node-1").setEpoch("bench-" + sid)
                                .setSequence(++seq).setFirstFlowSeq(fseq).addAllFlows(b).build();
                        fseq += b.size();
                        processor.handle(frame).whenComplete((ack, e) -> {
                            inflight.release();
                            if (e == null && ack.getStatus() == dev.sieve.api.ingest.v1.BatchAck.Status.STATUS_STORED) stored.addAndGet(b.size());
                            else System.err.println("batch not stored: " + (e != null ? e : ack.getStatus() + " " + ack.getError()));
                        });
                        // node-like pipelining: at most `window` unacknowledged batches per stream
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        for (Thread t : ts) t.join();
        inflight.acquire(streams * window);
        double secs = (System.nanoTime() - t0) / 1e9;
        long serverCpu = ch.cpuMicros() - serverCpu0, jvmCpu = (os.getProcessCpuTime() - jvmCpu0) / 1000;
        long counted = Long.parseLong(ch.sql("SELECT count() FROM bench.flows").trim());
        if (counted != stored.get()) throw new IllegalStateException("acknowledged " + stored.get() + " flows, ClickHouse holds " + counted);
        put("clickhouse_ingest_flows_per_s", stored.get() / secs);
        put("clickhouse_ingest_flows_stored", (double) stored.get());
        put("clickhouse_ingest_unacked_batches_per_stream", (double) window);
        put("clickhouse_ingest_writers", (double) s.config().writers());
        // CPU over the ingest window (merges running meanwhile included): the server's, and this JVM's (relay + load generator)
        if (serverCpu0 >= 0) put("clickhouse_ingest_server_cpu_us_per_flow", serverCpu / (double) stored.get());
        put("clickhouse_ingest_relay_and_load_cpu_us_per_flow", jvmCpu / (double) stored.get());
        inflight.release(streams * window);

        // top up to `total` rows server-side, shifting copies by whole days (spreads partitions like a month of data)
        long have = Long.parseLong(ch.sql("SELECT count() FROM bench.flows").trim());
        int day = 1;
        while (have < total) {
            long want = Math.min(have, total - have);
            ch.sql("INSERT INTO bench.flows (" + dev.sieve.relay.store.clickhouse.Schema.FLOW_COLUMNS + ") SELECT time - " + (86_400L * day) + " AS time, nanos, verdict, drop_reason, direction, protocol, src_namespace, src_pod, "
                    + "src_workload, src_identity, dst_namespace, dst_pod, dst_workload, dst_identity, src_ip, dst_ip, src_port, dst_port, node_name, "
                    + "concat(epoch, '-copy" + day + "'), batch_seq, flow_seq, uuid, policies, flow, src_labels, dst_labels FROM bench.flows LIMIT " + want);
            have += want;
            day++;
        }
        have = Long.parseLong(ch.sql("SELECT count() FROM bench.flows").trim());
        put("clickhouse_stored_flows", (double) have);
        FlowQuery q = FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build());
        double[] r = time(3, 11, () -> s.query(q).size());
        put("clickhouse_10m_verdict_dropped_last_100_ms_median", r[0]);
        put("clickhouse_10m_verdict_dropped_last_100_ms_p95", r[1]);
        FlowQuery q2 = FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).addDestinationPod("production/database").build());
        r = time(3, 11, () -> s.query(q2).size());
        put("clickhouse_10m_dropped_to_pod_last_100_ms_median", r[0]);
        Instant from = Timestamps.instant(START), to = from.plusSeconds(3600);
        FlowQuery q3 = FlowQuery.all().withRange(from, from.plusSeconds(60)).withNumber(1000, false);
        r = time(3, 11, () -> s.query(q3).size());
        put("clickhouse_10m_one_minute_last_1000_ms_median", r[0]);
        r = time(2, 7, () -> s.counts(from, to, Duration.ofMinutes(1), null).size());
        put("clickhouse_counts_per_minute_1h_ms_median", r[0]);
        r = time(2, 7, () -> s.serviceMap(from.minusSeconds(86_400L * 30), to, null).size());
        put("clickhouse_service_map_30d_ms_median", r[0]);
        s.close();
    }
}
