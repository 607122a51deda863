package dev.sieve.observer.metrics;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.L7FlowType;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hubble's {@code http} metrics handler (v1, without context labels), from L7 flows with an HTTP record:
 * {@code hubble_http_requests_total{method,protocol,reporter}} per request,
 * {@code hubble_http_responses_total{method,protocol,status,reporter}} per response and
 * {@code hubble_http_request_duration_seconds{method,reporter}}, a histogram of the responses' latency with
 * Prometheus' default buckets. The reporter is {@code client} for egress flows, {@code server} for ingress ones,
 * else {@code unknown}.
 */
final class HttpMetrics {

    /** Prometheus' {@code DefBuckets}, which Hubble's histogram uses. */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private record Request(String method, String protocol, String reporter) {}
    private record Response(String method, String protocol, String status, String reporter) {}
    private record Duration(String method, String reporter) {}

    private static final class Histogram {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) buckets[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (v <= BUCKETS[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(v);
        }
    }

    private final Map<Request, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<Response, LongAdder> responses = new ConcurrentHashMap<>();
    private final Map<Duration, Histogram> durations = new ConcurrentHashMap<>();

    void observe(Flow f) {
        if (!f.hasL7() || !f.getL7().hasHttp()) return;
        HTTP http = f.getL7().getHttp();
        String reporter = switch (f.getTrafficDirection()) {
            case EGRESS -> "client";
            case INGRESS -> "server";
            default -> "unknown";
        };
        L7FlowType type = f.getL7().getType();
        if (type == L7FlowType.REQUEST) {
            requests.computeIfAbsent(new Request(http.getMethod(), http.getProtocol(), reporter), k -> new LongAdder()).increment();
        } else if (type == L7FlowType.RESPONSE) {
            responses.computeIfAbsent(new Response(http.getMethod(), http.getProtocol(), Integer.toString(http.getCode()), reporter),
                    k -> new LongAdder()).increment();
            durations.computeIfAbsent(new Duration(http.getMethod(), reporter), k -> new Histogram())
                    .observe(f.getL7().getLatencyNs() / 1e9);
        }
    }

    void write(Appendable out) throws IOException {
        FlowMetrics.header(out, "hubble_http_requests_total", "Count of HTTP requests", "counter");
        for (var e : FlowMetrics.sorted(requests).entrySet()) {
            Request k = e.getKey();
            FlowMetrics.sample(out, "hubble_http_requests_total", "method=\"" + esc(k.method) + "\",protocol=\"" + esc(k.protocol)
                    + "\",reporter=\"" + k.reporter + "\"", e.getValue().sum());
        }
        FlowMetrics.header(out, "hubble_http_responses_total", "Count of HTTP responses", "counter");
        for (var e : FlowMetrics.sorted(responses).entrySet()) {
            Response k = e.getKey();
            FlowMetrics.sample(out, "hubble_http_responses_total", "method=\"" + esc(k.method) + "\",protocol=\"" + esc(k.protocol)
                    + "\",reporter=\"" + k.reporter + "\",status=\"" + k.status + "\"", e.getValue().sum());
        }
        FlowMetrics.header(out, "hubble_http_request_duration_seconds", "Quantiles of HTTP request duration in seconds", "histogram");
        Map<Duration, Histogram> hs = new java.util.TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        hs.putAll(durations);
        for (var e : hs.entrySet()) {
            String labels = "method=\"" + esc(e.getKey().method) + "\",reporter=\"" + e.getKey().reporter + "\"";
            Histogram h = e.getValue();
            long cumulative = 0;
            for (int i = 0; i < BUCKETS.length; i++) {
                cumulative += h.buckets[i].sum();
                FlowMetrics.sample(out, "hubble_http_request_duration_seconds_bucket", labels + ",le=\"" + le(BUCKETS[i]) + "\"", cumulative);
            }
            FlowMetrics.sample(out, "hubble_http_request_duration_seconds_bucket", labels + ",le=\"+Inf\"", h.count.sum());
            out.append("hubble_http_request_duration_seconds_sum{").append(labels).append("} ").append(Double.toString(h.sum.sum())).append('\n');
            FlowMetrics.sample(out, "hubble_http_request_duration_seconds_count", labels, h.count.sum());
        }
    }

    /** Bucket bounds as Prometheus' Go client prints them: 0.005, 1, 2.5, 10. */
    private static String le(double b) {
        return b == Math.rint(b) ? Long.toString((long) b) : Double.toString(b);
    }

    /** Label values escaped per the text format (a method is the client's to choose). */
    static String esc(String v) {
        if (v.indexOf('\\') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0) return v;
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
