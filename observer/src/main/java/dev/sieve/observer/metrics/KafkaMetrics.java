package dev.sieve.observer.metrics;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Kafka;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Kafka proxy's own counters, from its L7 flows (Hubble's {@code hubble_policy_verdicts_total{match="l7/kafka"}}
 * and {@code hubble_flows_processed_total{protocol="Kafka"}} come from {@link FlowMetrics}):
 *
 * <ul>
 *   <li>{@code sieve_proxy_kafka_requests_total{api_key,verdict}} — requests judged (one per topic, as the flows);</li>
 *   <li>{@code sieve_proxy_kafka_responses_total{api_key,error_code}} — responses relayed or made by the proxy
 *       ({@code error_code} 29 is TOPIC_AUTHORIZATION_FAILED);</li>
 *   <li>{@code sieve_proxy_kafka_response_latency_seconds_sum/_count{api_key}} — broker latency through the proxy;</li>
 *   <li>{@code sieve_proxy_kafka_errors_total} — frames the proxy could not parse (connection closed).</li>
 * </ul>
 */
public final class KafkaMetrics {

    private record Request(String apiKey, String verdict) {}
    private record Response(String apiKey, int errorCode) {}

    private final Map<Request, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<Response, LongAdder> responses = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> latencyNanos = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> latencyCount = new ConcurrentHashMap<>();
    private final LongAdder errors = new LongAdder();

    /** Counts one flow if it is a Kafka L7 flow. */
    public void observe(Flow f) {
        if (!f.hasL7() || f.getL7().getRecordCase() != Layer7.RecordCase.KAFKA) return;
        Kafka k = f.getL7().getKafka();
        if (f.getVerdict() == Verdict.ERROR) {
            errors.increment();
            return;
        }
        String key = k.getApiKey();
        if (f.getL7().getType() == L7FlowType.RESPONSE) {
            responses.computeIfAbsent(new Response(key, k.getErrorCode()), x -> new LongAdder()).increment();
            latencyNanos.computeIfAbsent(key, x -> new LongAdder()).add(f.getL7().getLatencyNs());
            latencyCount.computeIfAbsent(key, x -> new LongAdder()).increment();
        } else {
            requests.computeIfAbsent(new Request(key, f.getVerdict().name().toLowerCase(Locale.ROOT)), x -> new LongAdder()).increment();
        }
    }

    /** Writes the counters in the Prometheus text format (0.0.4). */
    public void write(Appendable out) throws IOException {
        header(out, "sieve_proxy_kafka_requests_total", "Kafka requests judged by the proxy, per topic", "counter");
        for (var e : sorted(requests).entrySet()) {
            line(out, "sieve_proxy_kafka_requests_total", "api_key=\"" + e.getKey().apiKey + "\",verdict=\"" + e.getKey().verdict + "\"", e.getValue().sum());
        }
        header(out, "sieve_proxy_kafka_responses_total", "Kafka responses relayed or made by the proxy, per topic", "counter");
        for (var e : sorted(responses).entrySet()) {
            line(out, "sieve_proxy_kafka_responses_total", "api_key=\"" + e.getKey().apiKey + "\",error_code=\"" + e.getKey().errorCode + "\"", e.getValue().sum());
        }
        header(out, "sieve_proxy_kafka_response_latency_seconds", "Kafka response latency through the proxy", "summary");
        for (var e : new TreeMap<>(latencyCount).entrySet()) {
            String labels = "api_key=\"" + e.getKey() + "\"";
            out.append("sieve_proxy_kafka_response_latency_seconds_sum{").append(labels).append("} ")
                    .append(Double.toString(latencyNanos.get(e.getKey()).sum() / 1e9)).append('\n');
            line(out, "sieve_proxy_kafka_response_latency_seconds_count", labels, e.getValue().sum());
        }
        header(out, "sieve_proxy_kafka_errors_total", "Kafka frames the proxy could not parse (connection closed)", "counter");
        out.append("sieve_proxy_kafka_errors_total ").append(Long.toString(errors.sum())).append('\n');
    }

    private static <K> Map<K, LongAdder> sorted(Map<K, LongAdder> m) {
        Map<K, LongAdder> out = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        out.putAll(m);
        return out;
    }

    private static void header(Appendable out, String name, String help, String type) throws IOException {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void line(Appendable out, String name, String labels, long v) throws IOException {
        out.append(name).append('{').append(labels).append("} ").append(Long.toString(v)).append('\n');
    }
}
