package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.CiliumEventType;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.metrics.FlowMetrics;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Hubble's HTTP metrics and Sieve's proxy counters from L7 flows, as the agent's flows of the HTTP proxy look. */
class HttpFlowMetricsTest {

    private static Flow l7(L7FlowType type, TrafficDirection dir, Verdict v, String method, int code, long latencyNs) {
        HTTP.Builder http = HTTP.newBuilder().setMethod(method).setProtocol("HTTP/1.1").setUrl("http://api/api/users");
        if (type == L7FlowType.RESPONSE) http.setCode(code);
        return Flow.newBuilder().setEventType(CiliumEventType.newBuilder().setType(129)).setVerdict(v).setTrafficDirection(dir)
                .setL7(Layer7.newBuilder().setType(type).setLatencyNs(latencyNs).setHttp(http)).build();
    }

    private static String scrape(FlowMetrics m) throws IOException {
        StringBuilder sb = new StringBuilder();
        m.write(sb);
        return sb.toString();
    }

    @Test
    void requestsResponsesDurationsAndVerdictsFromHttpFlows() throws IOException {
        FlowMetrics m = new FlowMetrics();
        TrafficDirection in = TrafficDirection.INGRESS;
        m.observe(l7(L7FlowType.REQUEST, in, Verdict.FORWARDED, "GET", 0, 0));
        m.observe(l7(L7FlowType.RESPONSE, in, Verdict.FORWARDED, "GET", 200, 3_000_000)); // 3 ms
        m.observe(l7(L7FlowType.REQUEST, in, Verdict.FORWARDED, "GET", 0, 0));
        m.observe(l7(L7FlowType.RESPONSE, in, Verdict.FORWARDED, "GET", 200, 700_000_000)); // 0.7 s
        m.observe(l7(L7FlowType.REQUEST, in, Verdict.DROPPED, "DELETE", 0, 0));
        m.observe(l7(L7FlowType.RESPONSE, in, Verdict.FORWARDED, "DELETE", 403, 100_000));
        m.observe(l7(L7FlowType.REQUEST, TrafficDirection.EGRESS, Verdict.ERROR, "", 0, 0));
        m.observe(l7(L7FlowType.RESPONSE, TrafficDirection.EGRESS, Verdict.ERROR, "", 400, 0));
        String s = scrape(m);
        assertThat(s).contains(
                "# TYPE hubble_http_requests_total counter\n",
                "hubble_http_requests_total{method=\"GET\",protocol=\"HTTP/1.1\",reporter=\"server\"} 2\n",
                "hubble_http_requests_total{method=\"DELETE\",protocol=\"HTTP/1.1\",reporter=\"server\"} 1\n",
                "hubble_http_requests_total{method=\"\",protocol=\"HTTP/1.1\",reporter=\"client\"} 1\n",
                "hubble_http_responses_total{method=\"GET\",protocol=\"HTTP/1.1\",reporter=\"server\",status=\"200\"} 2\n",
                "hubble_http_responses_total{method=\"DELETE\",protocol=\"HTTP/1.1\",reporter=\"server\",status=\"403\"} 1\n",
                "# TYPE hubble_http_request_duration_seconds histogram\n",
                "hubble_http_request_duration_seconds_bucket{method=\"GET\",reporter=\"server\",le=\"0.005\"} 1\n",
                "hubble_http_request_duration_seconds_bucket{method=\"GET\",reporter=\"server\",le=\"0.5\"} 1\n",
                "hubble_http_request_duration_seconds_bucket{method=\"GET\",reporter=\"server\",le=\"1\"} 2\n",
                "hubble_http_request_duration_seconds_bucket{method=\"GET\",reporter=\"server\",le=\"+Inf\"} 2\n",
                "hubble_http_request_duration_seconds_sum{method=\"GET\",reporter=\"server\"} 0.703\n",
                "hubble_http_request_duration_seconds_count{method=\"GET\",reporter=\"server\"} 2\n",
                "hubble_policy_verdicts_total{action=\"forwarded\",direction=\"ingress\",match=\"l7/http\"} 5\n",
                "hubble_policy_verdicts_total{action=\"dropped\",direction=\"ingress\",match=\"l7/http\"} 1\n",
                "hubble_flows_processed_total{protocol=\"HTTP\",subtype=\"HTTP\",type=\"L7\",verdict=\"DROPPED\"} 1\n",
                "sieve_proxy_requests_total{protocol=\"http\",verdict=\"forwarded\"} 2\n",
                "sieve_proxy_requests_total{protocol=\"http\",verdict=\"dropped\"} 1\n",
                "sieve_proxy_requests_total{protocol=\"http\",verdict=\"error\"} 1\n",
                "sieve_proxy_denied_total{protocol=\"http\"} 1\n",
                "sieve_proxy_errors_total{protocol=\"http\"} 2\n");
        assertThat(s.lines().filter(l -> l.startsWith("hubble_http_request_duration_seconds_bucket{method=\"GET\""))).hasSize(12);
    }

    @Test
    void l3l4FlowsLeaveTheHttpMetricsEmpty() throws IOException {
        FlowMetrics m = new FlowMetrics();
        m.observe(Flow.newBuilder().setVerdict(Verdict.FORWARDED).build());
        String s = scrape(m);
        assertThat(s).contains("# TYPE hubble_http_requests_total counter\n").doesNotContain("hubble_http_requests_total{")
                .doesNotContain("sieve_proxy_requests_total{");
    }
}
