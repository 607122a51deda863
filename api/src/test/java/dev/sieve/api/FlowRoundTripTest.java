package dev.sieve.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import com.google.protobuf.WireFormat;
import dev.sieve.api.flow.CiliumEventType;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TraceObservationPoint;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class FlowRoundTripTest {

    static Flow droppedFlow() {
        return Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(1_760_000_000L).setNanos(123_000_000))
                .setUuid("7f0c1d2e-0000-4000-8000-000000000001")
                .setVerdict(Verdict.DROPPED)
                .setDropReasonDesc(DropReason.POLICY_DENIED)
                .setIP(IP.newBuilder().setSource("10.0.1.5").setDestination("10.0.2.7").setIpVersion(IPVersion.IPv4))
                .setL4(Layer4.newBuilder().setTCP(TCP.newBuilder()
                        .setSourcePort(40312).setDestinationPort(8080)
                        .setFlags(TCPFlags.newBuilder().setSYN(true))))
                .setSource(Endpoint.newBuilder().setID(101).setIdentity(12345).setNamespace("shop")
                        .addLabels("k8s:app=frontend").setPodName("frontend-6d8f9"))
                .setDestination(Endpoint.newBuilder().setID(202).setIdentity(23456).setNamespace("shop")
                        .addLabels("k8s:app=payments").setPodName("payments-0"))
                .setType(FlowType.L3_L4)
                .setNodeName("node-a")
                .setEventType(CiliumEventType.newBuilder().setType(5))
                .setTrafficDirection(TrafficDirection.INGRESS)
                .setTraceObservationPoint(TraceObservationPoint.TO_ENDPOINT)
                .setIsReply(BoolValue.of(false))
                .addIngressDeniedBy(Policy.newBuilder().setName("deny-payments").setNamespace("shop")
                        .setKind("CiliumNetworkPolicy").setRevision(7))
                .build();
    }

    @Test
    void binaryRoundTrip() throws Exception {
        Flow flow = droppedFlow();
        byte[] bytes = flow.toByteArray();
        Flow parsed = Flow.parseFrom(bytes);
        assertThat(parsed).isEqualTo(flow);
        assertThat(parsed.getIngressDeniedBy(0).getName()).isEqualTo("deny-payments");
        assertThat(parsed.getL4().getTCP().getDestinationPort()).isEqualTo(8080);
    }

    /** Bytes written by hand from Hubble's field numbers decode into the expected Java fields. */
    @Test
    void handEncodedHubbleBytesDecode() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(buf);
        out.writeEnum(2, 2);            // verdict = DROPPED
        out.writeUInt32(3, 133);        // drop_reason (legacy numeric)
        out.writeString(11, "node-b");  // node_name
        out.writeEnum(22, 2);           // traffic_direction = EGRESS
        out.writeEnum(25, 181);         // drop_reason_desc = POLICY_DENY
        out.writeString(34, "u-1");     // uuid
        out.writeString(100000, "TCP Flags: SYN"); // Summary
        // source (8) = Endpoint{identity(2)=42, pod_name(5)="web-0"}
        byte[] ep = Endpoint.newBuilder().setIdentity(42).setPodName("web-0").build().toByteArray();
        out.writeByteArray(8, ep);
        // egress_denied_by (21004) = Policy{name(1)="p"}
        out.writeTag(21004, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(3);
        out.writeRawBytes(new byte[] {0x0A, 0x01, 'p'});
        out.flush();

        Flow flow = Flow.parseFrom(buf.toByteArray());
        assertThat(flow.getVerdict()).isEqualTo(Verdict.DROPPED);
        @SuppressWarnings("deprecation")
        int legacy = flow.getDropReason();
        assertThat(legacy).isEqualTo(133);
        assertThat(flow.getNodeName()).isEqualTo("node-b");
        assertThat(flow.getTrafficDirection()).isEqualTo(TrafficDirection.EGRESS);
        assertThat(flow.getDropReasonDesc()).isEqualTo(DropReason.POLICY_DENY);
        assertThat(flow.getUuid()).isEqualTo("u-1");
        @SuppressWarnings("deprecation")
        String summary = flow.getSummary();
        assertThat(summary).isEqualTo("TCP Flags: SYN");
        assertThat(flow.getSource().getIdentity()).isEqualTo(42);
        assertThat(flow.getSource().getPodName()).isEqualTo("web-0");
        assertThat(flow.getEgressDeniedByList()).extracting(Policy::getName).containsExactly("p");
        assertThat(flow.getUnknownFields().asMap()).isEmpty();
    }

    @Test
    void unknownFieldsFromNewerHubbleSurvive() throws Exception {
        // A field number we do not define (e.g. added by a later Hubble) must be kept on re-serialisation.
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(buf);
        out.writeString(11, "node-c");
        out.writeUInt64(4999, 77L);
        out.flush();
        Flow flow = Flow.parseFrom(buf.toByteArray());
        assertThat(flow.getNodeName()).isEqualTo("node-c");
        assertThat(flow.getUnknownFields().hasField(4999)).isTrue();
        assertThat(Flow.parseFrom(flow.toByteArray()).getUnknownFields().hasField(4999)).isTrue();
    }

    @Test
    void jsonLooksLikeHubbleJsonpb() throws Exception {
        GetFlowsResponse resp = GetFlowsResponse.newBuilder()
                .setFlow(droppedFlow())
                .setNodeName("node-a")
                .setTime(droppedFlow().getTime())
                .build();
        String json = HubbleJson.print(resp);

        assertThat(json).doesNotContain("\n");
        assertThat(json).startsWith("{\"flow\":{");
        assertThat(json)
                .contains("\"time\":\"2025-10-09T08:53:20.123Z\"")
                .contains("\"verdict\":\"DROPPED\"")
                .contains("\"drop_reason_desc\":\"POLICY_DENIED\"")
                .contains("\"IP\":{\"source\":\"10.0.1.5\",\"destination\":\"10.0.2.7\",\"ipVersion\":\"IPv4\"}")
                .contains("\"l4\":{\"TCP\":{\"source_port\":40312,\"destination_port\":8080,\"flags\":{\"SYN\":true}}}")
                .contains("\"pod_name\":\"frontend-6d8f9\"")
                .contains("\"Type\":\"L3_L4\"")
                .contains("\"traffic_direction\":\"INGRESS\"")
                .contains("\"trace_observation_point\":\"TO_ENDPOINT\"")
                .contains("\"is_reply\":false")
                .contains("\"ingress_denied_by\":[{\"name\":\"deny-payments\"")
                .contains("\"node_name\":\"node-a\"");

        GetFlowsResponse back = HubbleJson.merge(json, GetFlowsResponse.newBuilder()).build();
        assertThat(back).isEqualTo(resp);
    }

    @Test
    void jsonParserAcceptsUnknownFieldsFromNewerHubble() throws Exception {
        String json = "{\"flow\":{\"verdict\":\"FORWARDED\",\"some_future_field\":{\"x\":1}},\"node_name\":\"n\"}";
        GetFlowsResponse resp = HubbleJson.merge(json, GetFlowsResponse.newBuilder()).build();
        assertThat(resp.getFlow().getVerdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(resp.getNodeName()).isEqualTo("n");
    }
}
