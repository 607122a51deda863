package dev.sieve.relay.metrics;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counters and a latency histogram, written out in the Prometheus text format by {@code /metrics}. */
public final class RelayMetrics {
    public static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    public final AtomicLong flowsStored = new AtomicLong();
    public final AtomicLong storeErrors = new AtomicLong();
    /** Batches refused because their sequence or flow numbers lie too far above their stream's mark. */
    public final AtomicLong outOfWindow = new AtomicLong();
    public final Map<String, AtomicLong> batchesByStatus = new ConcurrentHashMap<>();
    private final AtomicLongArray latencyBuckets = new AtomicLongArray(LATENCY_BUCKETS.length);
    private final AtomicLong latencyCount = new AtomicLong();
    private final AtomicLong latencySumNanos = new AtomicLong();
    // flows/s over a sliding window of 10 one-second slots
    private final long[] rateSlots = new long[10];
    private final long[] rateSecond = new long[10];

    public void batch(String status) {
        batchesByStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    public void stored(int flows, long latencyNanos) {
        flowsStored.addAndGet(flows);
        latencyCount.incrementAndGet();
        latencySumNanos.addAndGet(latencyNanos);
        double s = latencyNanos / 1e9;
        for (int i = 0; i < LATENCY_BUCKETS.length; i++) if (s <= LATENCY_BUCKETS[i]) latencyBuckets.incrementAndGet(i);
        long sec = System.currentTimeMillis() / 1000;
        synchronized (rateSlots) {
            int i = (int) (sec % rateSlots.length);
            if (rateSecond[i] != sec) {
                rateSecond[i] = sec;
                rateSlots[i] = 0;
            }
            rateSlots[i] += flows;
        }
    }

    /** Flows stored per second over the last 10 complete seconds. */
    public double flowsRate() {
        long now = System.currentTimeMillis() / 1000;
        long sum = 0;
        synchronized (rateSlots) {
            for (int i = 0; i < rateSlots.length; i++) if (rateSecond[i] < now && rateSecond[i] >= now - rateSlots.length) sum += rateSlots[i];
        }
        return sum / (double) rateSlots.length;
    }

    /** Writes the relay-wide series; callers append per-node and store series. */
    public void write(StringBuilder b) {
        help(b, "sieve_relay_ingest_flows_total", "counter", "Flows stored by the ingest path.");
        b.append("sieve_relay_ingest_flows_total ").append(flowsStored.get()).append('\n');
        help(b, "sieve_relay_ingest_flows_per_second", "gauge", "Flows stored per second, last 10 s.");
        b.append("sieve_relay_ingest_flows_per_second ").append(flowsRate()).append('\n');
        help(b, "sieve_relay_ingest_batches_total", "counter", "Batches answered, by ack status.");
        batchesByStatus.forEach((s, v) -> b.append("sieve_relay_ingest_batches_total{status=\"").append(s).append("\"} ").append(v.get()).append('\n'));
        help(b, "sieve_relay_ingest_batch_latency_seconds", "histogram", "Time from receiving a batch to acknowledging it as stored.");
        for (int i = 0; i < LATENCY_BUCKETS.length; i++)
            b.append("sieve_relay_ingest_batch_latency_seconds_bucket{le=\"").append(LATENCY_BUCKETS[i]).append("\"} ").append(latencyBuckets.get(i)).append('\n');
        b.append("sieve_relay_ingest_batch_latency_seconds_bucket{le=\"+Inf\"} ").append(latencyCount.get()).append('\n');
        b.append("sieve_relay_ingest_batch_latency_seconds_sum ").append(latencySumNanos.get() / 1e9).append('\n');
        b.append("sieve_relay_ingest_batch_latency_seconds_count ").append(latencyCount.get()).append('\n');
        help(b, "sieve_relay_store_errors_total", "counter", "Store operations that failed (insert, query, schema).");
        b.append("sieve_relay_store_errors_total ").append(storeErrors.get()).append('\n');
        b.append("# HELP sieve_relay_ingest_out_of_window_total Batches refused: sequence or flow numbers too far above their stream's mark.\n");
        b.append("# TYPE sieve_relay_ingest_out_of_window_total counter\n");
        b.append("sieve_relay_ingest_out_of_window_total ").append(outOfWindow.get()).append('\n');
    }

    public static void help(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    public static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
