package dev.sieve.observer.metrics;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sieve's L7 proxy counters, from L7 flows of any source and protocol ({@code http}, {@code dns}, {@code kafka}):
 * {@code sieve_proxy_requests_total{protocol,verdict}} per request flow, {@code sieve_proxy_denied_total{protocol}}
 * per request the policy denied (DROPPED), {@code sieve_proxy_errors_total{protocol}} per flow with verdict ERROR
 * (what the proxy could not parse or forward).
 */
final class ProxyMetrics {

    private record Requests(String protocol, String verdict) {}

    private final Map<Requests, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> denied = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

    void observe(Flow f) {
        if (!f.hasL7()) return;
        String protocol = switch (f.getL7().getRecordCase()) {
            case HTTP -> "http";
            case DNS -> "dns";
            case KAFKA -> "kafka";
            default -> "unknown";
        };
        Verdict v = f.getVerdict();
        if (f.getL7().getType() == L7FlowType.REQUEST) {
            requests.computeIfAbsent(new Requests(protocol, v.name()), k -> new LongAdder()).increment();
            if (v == Verdict.DROPPED) denied.computeIfAbsent(protocol, k -> new LongAdder()).increment();
        }
        if (v == Verdict.ERROR) errors.computeIfAbsent(protocol, k -> new LongAdder()).increment();
    }

    void write(Appendable out) throws IOException {
        FlowMetrics.header(out, "sieve_proxy_requests_total", "L7 requests the proxies judged, by protocol and verdict", "counter");
        for (var e : FlowMetrics.sorted(requests).entrySet()) {
            FlowMetrics.sample(out, "sieve_proxy_requests_total", "protocol=\"" + e.getKey().protocol + "\",verdict=\""
                    + e.getKey().verdict.toLowerCase(Locale.ROOT) + "\"", e.getValue().sum());
        }
        FlowMetrics.header(out, "sieve_proxy_denied_total", "L7 requests the proxies denied", "counter");
        for (var e : FlowMetrics.sorted(denied).entrySet()) {
            FlowMetrics.sample(out, "sieve_proxy_denied_total", "protocol=\"" + e.getKey() + "\"", e.getValue().sum());
        }
        FlowMetrics.header(out, "sieve_proxy_errors_total", "L7 flows the proxies reported as errors (unparsable requests, failed upstreams)", "counter");
        for (var e : FlowMetrics.sorted(errors).entrySet()) {
            FlowMetrics.sample(out, "sieve_proxy_errors_total", "protocol=\"" + e.getKey() + "\"", e.getValue().sum());
        }
    }
}
