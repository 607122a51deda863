package dev.sieve.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import org.junit.jupiter.api.Test;

/** JSON as Hubble prints it: labels keep their '=' instead of protobuf-java's HTML-safe escapes. */
class HubbleJsonTest {

    /** A line hubble 1.19.4 printed for a Sieve flow ({@code hubble observe -o jsonpb}), fields in declaration order. */
    static final String HUBBLE_LINE = "{\"flow\":{\"time\":\"2026-12-07T17:37:46.334161517Z\",\"uuid\":\"324996c3-8371-5ae5-0000-000000000045\","
            + "\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"10.244.1.41\",\"destination\":\"10.244.1.20\",\"ipVersion\":\"IPv4\"},"
            + "\"l4\":{\"TCP\":{\"source_port\":45108,\"destination_port\":8080,\"flags\":{\"SYN\":true}}},\"source\":{\"ID\":7,"
            + "\"identity\":261,\"namespace\":\"production\",\"labels\":[\"k8s:app=client\"],\"pod_name\":\"prod-client\"},"
            + "\"destination\":{\"identity\":257,\"namespace\":\"production\",\"labels\":[\"k8s:app=backend\"],\"pod_name\":\"backend\"},"
            + "\"Type\":\"L3_L4\",\"node_name\":\"node-1\",\"event_type\":{\"type\":5},\"traffic_direction\":\"EGRESS\","
            + "\"is_reply\":false,\"interface\":{\"index\":7},\"Summary\":\"TCP Flags: SYN\"},\"node_name\":\"node-1\","
            + "\"time\":\"2026-12-07T17:37:46.334161517Z\"}";

    @Test
    void printsByteForByteWhatHubblePrints() throws Exception {
        var r = HubbleJson.merge(HUBBLE_LINE, dev.sieve.api.observer.GetFlowsResponse.newBuilder()).build();
        assertThat(HubbleJson.print(r)).isEqualTo(HUBBLE_LINE);
    }

    @Test
    void everyKindOfFieldRoundTrips() throws Exception {
        Flow f = Flow.newBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_700_000_000L).setNanos(120_000_000))
                .setDropReasonDesc(dev.sieve.api.flow.DropReason.POLICY_DENIED).setDropReason(133)
                .setIsReply(com.google.protobuf.BoolValue.of(true))
                .setIpTraceId(dev.sieve.api.flow.IPTraceID.newBuilder().setTraceId(-1L))
                .setSource(Endpoint.newBuilder().setID(1).setIdentity(-2).addLabels("q\"uote\\back\nline\u0001"))
                .setL7(dev.sieve.api.flow.Layer7.newBuilder().setLatencyNs(42)
                        .setHttp(dev.sieve.api.flow.HTTP.newBuilder().setCode(404).setUrl("http://x/ä")))
                .addEgressAllowedBy(dev.sieve.api.flow.Policy.newBuilder().setName("p").setRevision(3))
                .build();
        String json = HubbleJson.print(f);
        assertThat(HubbleJson.merge(json, Flow.newBuilder()).build()).isEqualTo(f);
        assertThat(json).contains("\"identity\":4294967294").contains("\"trace_id\":\"18446744073709551615\"")
                .contains("\"is_reply\":true").contains("\"time\":\"2023-11-14T22:13:20.120Z\"").contains("\\u0001");
        assertThat(json.indexOf("\"time\"")).isLessThan(json.indexOf("\"drop_reason\""));
    }

    @Test
    void labelsPrintTheirEqualsSignAsHubbleDoes() throws Exception {
        Flow f = Flow.newBuilder().setSource(Endpoint.newBuilder().addLabels("k8s:app=frontend").addLabels("a<b>&'c")).build();
        String json = HubbleJson.print(f);
        assertThat(json).contains("\"k8s:app=frontend\"").contains("\"a<b>&'c\"").doesNotContain("\\u00");
        assertThat(HubbleJson.merge(json, Flow.newBuilder()).build()).isEqualTo(f);
    }

    @Test
    void anEscapedBackslashBeforeTheTextU003dStaysAsItIs() throws Exception {
        String text = "back\\" + "u003d slash";
        Flow f = Flow.newBuilder().setNodeName(text).build();
        String json = HubbleJson.print(f);
        assertThat(HubbleJson.merge(json, Flow.newBuilder()).build().getNodeName()).isEqualTo(text);
    }
}
