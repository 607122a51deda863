package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.LostEventSource;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.metrics.FlowMetrics;
import dev.sieve.observer.metrics.MetricsServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class FlowMetricsTest {

    static dev.sieve.api.flow.Flow dnsFlow(dev.sieve.api.flow.Verdict v, dev.sieve.api.flow.L7FlowType type, dev.sieve.api.flow.DNS dns) {
        return dev.sieve.api.flow.Flow.newBuilder().setVerdict(v).setType(dev.sieve.api.flow.FlowType.L7)
                .setEventType(dev.sieve.api.flow.CiliumEventType.newBuilder().setType(129))
                .setIsReply(com.google.protobuf.BoolValue.of(type == dev.sieve.api.flow.L7FlowType.RESPONSE))
                .setL7(dev.sieve.api.flow.Layer7.newBuilder().setType(type).setDns(dns)).build();
    }

    @Test
    void dnsFlowsCountWithHubblesDnsLabels() throws Exception {
        FlowMetrics m = new FlowMetrics();
        var fwd = dev.sieve.api.flow.Verdict.FORWARDED;
        var q = dev.sieve.api.flow.DNS.newBuilder().setQuery("s3.amazonaws.com.").addQtypes("A").build();
        m.observe(dnsFlow(fwd, dev.sieve.api.flow.L7FlowType.REQUEST, q));
        m.observe(dnsFlow(fwd, dev.sieve.api.flow.L7FlowType.RESPONSE, q.toBuilder().addIps("10.0.0.1").addIps("10.0.0.2")
                .addRrtypes("CNAME").addRrtypes("A").build()));
        m.observe(dnsFlow(dev.sieve.api.flow.Verdict.DROPPED, dev.sieve.api.flow.L7FlowType.REQUEST,
                dev.sieve.api.flow.DNS.newBuilder().setQuery("evil.example.org.").addQtypes("AAAA").build()));
        m.observe(dnsFlow(fwd, dev.sieve.api.flow.L7FlowType.RESPONSE, q.toBuilder().setRcode(3).build()));
        StringBuilder sb = new StringBuilder();
        m.write(sb);
        assertThat(sb.toString()).contains(
                "# TYPE hubble_dns_queries_total counter\n",
                "hubble_dns_queries_total{ips_returned=\"0\",qtypes=\"A\",rcode=\"\"} 1\n",
                "hubble_dns_queries_total{ips_returned=\"0\",qtypes=\"AAAA\",rcode=\"Policy denied\"} 1\n",
                "hubble_dns_responses_total{ips_returned=\"2\",qtypes=\"A\",rcode=\"No Error\"} 1\n",
                "hubble_dns_responses_total{ips_returned=\"0\",qtypes=\"A\",rcode=\"Non-Existent Domain\"} 1\n",
                "hubble_dns_response_types_total{qtypes=\"A\",type=\"A\"} 1\n",
                "hubble_dns_response_types_total{qtypes=\"A\",type=\"CNAME\"} 1\n",
                "hubble_flows_processed_total{protocol=\"DNS\",subtype=\"DNS\",type=\"L7\",verdict=\"DROPPED\"} 1\n");
    }

    @Test
    void dropsComeFromTheDatapathsCountersWhenItHasThem() throws Exception {
        FlowMetrics m = new FlowMetrics();
        FlowEnricher en = Fixtures.enricher();
        // one drop event reported, but the datapath dropped 7 such packets (events rate-limited or lost)
        m.setDatapathDrops(() -> java.util.List.of(new FlowMetrics.DatapathDrop("POLICY_DENY", "TCP", 7),
                new FlowMetrics.DatapathDrop("DROP_EP_NOT_READY", "UDP", 2)));
        m.observe(en.enrich(Fixtures.deniedSyn(Fixtures.T0)));
        m.observe(dnsFlow(dev.sieve.api.flow.Verdict.DROPPED, dev.sieve.api.flow.L7FlowType.REQUEST,
                dev.sieve.api.flow.DNS.newBuilder().setQuery("evil.example.org.").addQtypes("A").build()));
        StringBuilder sb = new StringBuilder();
        m.write(sb);
        assertThat(sb.toString()).contains(
                "hubble_drop_total{protocol=\"TCP\",reason=\"POLICY_DENY\"} 7\n",
                "hubble_drop_total{protocol=\"UDP\",reason=\"DROP_EP_NOT_READY\"} 2\n",
                "hubble_drop_total{protocol=\"DNS\",reason=\"DROP_REASON_UNKNOWN\"} 1\n");
    }

    @Test
    void scrapeShowsHubbleMetricsAndAgentGauges() throws Exception {
        FlowMetrics m = new FlowMetrics();
        FlowEnricher en = Fixtures.enricher();
        m.observe(en.enrich(Fixtures.allowedSyn(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.allowedSyn(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.deniedSyn(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.droppedUdp(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.replySynAck(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.ping4(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.ping6(Fixtures.T0)));
        m.observe(en.enrich(Fixtures.sctpAudit(Fixtures.T0)));
        m.lost(LostEventSource.PERF_EVENT_RING_BUFFER, 5);
        m.gauge("sieve_bpf_map_entries", "Entries in a BPF map", "map=\"policy\"", () -> 12);
        m.gauge("sieve_bpf_map_entries", "Entries in a BPF map", "map=\"ipcache\"", () -> 30);
        m.gauge("sieve_policy_computation_seconds", "Duration of the last policy computation", "", () -> 0.25);
        try (MetricsServer server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), m)) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
            assertThat(r.body()).contains(
                    "# TYPE hubble_flows_processed_total counter\n",
                    "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"\",type=\"PolicyVerdict\",verdict=\"FORWARDED\"} 2\n",
                    "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"\",type=\"Drop\",verdict=\"DROPPED\"} 1\n",
                    "hubble_flows_processed_total{protocol=\"UDP\",subtype=\"\",type=\"Drop\",verdict=\"DROPPED\"} 1\n",
                    "hubble_flows_processed_total{protocol=\"TCP\",subtype=\"to-endpoint\",type=\"Trace\",verdict=\"FORWARDED\"} 1\n",
                    "hubble_flows_processed_total{protocol=\"ICMPv4\",subtype=\"\",type=\"PolicyVerdict\",verdict=\"FORWARDED\"} 1\n",
                    "hubble_flows_processed_total{protocol=\"ICMPv6\",subtype=\"\",type=\"PolicyVerdict\",verdict=\"FORWARDED\"} 1\n",
                    "hubble_flows_processed_total{protocol=\"SCTP\",subtype=\"\",type=\"PolicyVerdict\",verdict=\"AUDIT\"} 1\n",
                    "hubble_drop_total{protocol=\"TCP\",reason=\"POLICY_DENY\"} 1\n",
                    "hubble_drop_total{protocol=\"UDP\",reason=\"POLICY_DENIED\"} 1\n",
                    // allow rule at ingress (twice), a named deny rule at egress, default deny at egress, ...
                    "hubble_policy_verdicts_total{action=\"forwarded\",direction=\"ingress\",match=\"l3-l4\"} 2\n",
                    "hubble_policy_verdicts_total{action=\"dropped\",direction=\"egress\",match=\"l3-l4\"} 1\n",
                    "hubble_policy_verdicts_total{action=\"dropped\",direction=\"egress\",match=\"none\"} 1\n",
                    "hubble_policy_verdicts_total{action=\"forwarded\",direction=\"egress\",match=\"l3-l4\"} 1\n",
                    "hubble_policy_verdicts_total{action=\"forwarded\",direction=\"ingress\",match=\"none\"} 1\n",
                    "hubble_policy_verdicts_total{action=\"audit\",direction=\"ingress\",match=\"none\"} 1\n",
                    // forwarded TCP only: two SYNs and the reply's SYN-ACK; the denied SYN is not counted
                    "hubble_tcp_flags_total{family=\"IPv4\",flag=\"SYN\"} 2\n",
                    "hubble_tcp_flags_total{family=\"IPv4\",flag=\"SYN-ACK\"} 1\n",
                    // forwarded, not replies
                    "hubble_port_distribution_total{port=\"8080\",protocol=\"TCP\"} 2\n",
                    "hubble_port_distribution_total{port=\"0\",protocol=\"ICMPv4\"} 1\n",
                    "hubble_port_distribution_total{port=\"0\",protocol=\"ICMPv6\"} 1\n",
                    "hubble_icmp_total{family=\"IPv4\",type=\"EchoRequest\"} 1\n",
                    "hubble_icmp_total{family=\"IPv6\",type=\"EchoRequest\"} 1\n",
                    "hubble_lost_events_total{source=\"perf_event_ring_buffer\"} 5\n",
                    "hubble_lost_events_total{source=\"hubble_ring_buffer\"} 0\n",
                    "# TYPE sieve_bpf_map_entries gauge\n",
                    "sieve_bpf_map_entries{map=\"policy\"} 12\n",
                    "sieve_bpf_map_entries{map=\"ipcache\"} 30\n",
                    "sieve_policy_computation_seconds 0.25\n");
            assertThat(r.body().split("# TYPE sieve_bpf_map_entries", -1)).hasSize(2);
            // nothing else: no reply port, no denied or audited flow in the TCP flags or ports
            assertThat(r.body().lines().filter(l -> l.startsWith("hubble_tcp_flags_total") || l.startsWith("hubble_port_distribution_total")
                    || l.startsWith("hubble_icmp_total") || l.startsWith("hubble_policy_verdicts_total"))).hasSize(13);
        }
    }
}
