package dev.sieve.relay.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.DNS;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.ICMPv4;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.SCTP;
import dev.sieve.api.flow.Workload;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.TestFlows;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The columns read from a flow's bytes are what the parsed flow's getters say (the expectation is
 * written here from the getters, independently of the reader), and the blob is the flow without them.
 */
class FlowColumnsTest {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));

    /** The columns as a string, from the reader. */
    static String read(FlowColumns c) {
        List<String> p = new ArrayList<>();
        for (int i = 0; i < c.policyCount(); i++) {
            byte[] b = new byte[c.policyValueLength(i)];
            c.policyValue(i, b, 0);
            p.add(new String(b, java.nio.charset.StandardCharsets.UTF_8));
        }
        return String.join("|", List.of(c.hasTime() + "", c.timeNanos() + "", c.verdict() + "", c.dropReason() + "", c.direction() + "",
                c.protocol() + "", c.srcPort() + "", c.dstPort() + "", Integer.toUnsignedString(c.srcIdentity()), Integer.toUnsignedString(c.dstIdentity()),
                c.string(FlowColumns.SRC_NAMESPACE), c.string(FlowColumns.SRC_POD), c.string(FlowColumns.SRC_WORKLOAD),
                c.string(FlowColumns.DST_NAMESPACE), c.string(FlowColumns.DST_POD), c.string(FlowColumns.DST_WORKLOAD),
                c.string(FlowColumns.SRC_IP), c.string(FlowColumns.DST_IP), c.string(FlowColumns.NODE_NAME), c.string(FlowColumns.UUID),
                String.join(",", c.labels(true)), String.join(",", c.labels(false)), String.join(";", p),
                c.l7Record() + "", c.l7Type() + "", Long.toUnsignedString(c.l7LatencyNs()), c.string(FlowColumns.DNS_QUERY), Integer.toUnsignedString(c.dnsRcode()),
                String.join(",", c.list(FlowColumns.DNS_QTYPES)), String.join(",", c.list(FlowColumns.DNS_IPS)), c.string(FlowColumns.HTTP_METHOD),
                Integer.toUnsignedString(c.httpStatus()), c.string(FlowColumns.HTTP_URL), c.string(FlowColumns.KAFKA_API_KEY),
                c.string(FlowColumns.KAFKA_TOPIC), c.kafkaErrorCode() + ""));
    }

    /** The same from the parsed flow's getters. */
    static String expected(Flow f) {
        var l4 = f.getL4();
        int proto = switch (l4.getProtocolCase()) {
            case TCP -> 6; case UDP -> 17; case ICMPV4 -> 1; case ICMPV6 -> 58; case SCTP -> 132; default -> 0;
        };
        int sport = l4.hasTCP() ? l4.getTCP().getSourcePort() : l4.hasUDP() ? l4.getUDP().getSourcePort() : l4.hasSCTP() ? l4.getSCTP().getSourcePort() : 0;
        int dport = l4.hasTCP() ? l4.getTCP().getDestinationPort() : l4.hasUDP() ? l4.getUDP().getDestinationPort() : l4.hasSCTP() ? l4.getSCTP().getDestinationPort() : 0;
        List<String> p = new ArrayList<>();
        for (Policy x : f.getEgressAllowedByList()) p.add("allow:" + x.getKind() + "/" + x.getNamespace() + "/" + x.getName());
        for (Policy x : f.getIngressAllowedByList()) p.add("allow:" + x.getKind() + "/" + x.getNamespace() + "/" + x.getName());
        for (Policy x : f.getEgressDeniedByList()) p.add("deny:" + x.getKind() + "/" + x.getNamespace() + "/" + x.getName());
        for (Policy x : f.getIngressDeniedByList()) p.add("deny:" + x.getKind() + "/" + x.getNamespace() + "/" + x.getName());
        Endpoint s = f.getSource(), d = f.getDestination();
        return String.join("|", List.of(f.hasTime() + "", Timestamps.nanos(f) + "", f.getVerdictValue() + "", f.getDropReasonDescValue() + "",
                f.getTrafficDirectionValue() + "", proto + "", sport + "", dport + "", Integer.toUnsignedString(s.getIdentity()),
                Integer.toUnsignedString(d.getIdentity()), s.getNamespace(), s.getPodName(), workload(s), d.getNamespace(), d.getPodName(),
                workload(d), f.getIP().getSource(), f.getIP().getDestination(), f.getNodeName(), f.getUuid(),
                String.join(",", s.getLabelsList()), String.join(",", d.getLabelsList()), String.join(";", p),
                l7Expected(f.getL7())));
    }

    /** The L7 columns from the parsed flow's Layer7 (Kafka by descriptor: its message is deprecated). */
    static String l7Expected(Layer7 l7) {
        int record = switch (l7.getRecordCase()) {
            case DNS -> 1; case HTTP -> 2; case KAFKA -> 3; default -> 0;
        };
        var kafkaField = Layer7.getDescriptor().findFieldByName("kafka");
        var kafka = (com.google.protobuf.Message) l7.getField(kafkaField);
        var kd = kafkaField.getMessageType();
        DNS dns = l7.getDns();
        HTTP http = l7.getHttp();
        return String.join("|", List.of(record + "", l7.getTypeValue() + "", Long.toUnsignedString(l7.getLatencyNs()), dns.getQuery(),
                Integer.toUnsignedString(dns.getRcode()), String.join(",", dns.getQtypesList()), String.join(",", dns.getIpsList()), http.getMethod(),
                Integer.toUnsignedString(http.getCode()), http.getUrl(), (String) kafka.getField(kd.findFieldByName("api_key")),
                (String) kafka.getField(kd.findFieldByName("topic")), kafka.getField(kd.findFieldByName("error_code")) + ""));
    }

    static String workload(Endpoint e) {
        if (e.getWorkloadsCount() > 0 && !e.getWorkloads(0).getName().isEmpty()) return e.getWorkloads(0).getName();
        if (!e.getPodName().isEmpty()) return e.getPodName();
        for (String l : e.getLabelsList()) if (l.startsWith("reserved:")) return l;
        return "";
    }

    /** The flow as the blob should hold it: without what the columns hold. */
    static Flow stripped(Flow f, boolean keepLabels) {
        Flow.Builder b = f.toBuilder().clearTime().clearVerdict().clearDropReasonDesc().clearTrafficDirection().clearNodeName().clearUuid();
        if (f.hasIP()) b.setIP(f.getIP().toBuilder().clearSource().clearDestination());
        if (f.hasSource()) b.setSource(endpoint(f.getSource(), keepLabels));
        if (f.hasDestination()) b.setDestination(endpoint(f.getDestination(), keepLabels));
        for (int i = 0; i < b.getEgressAllowedByCount(); i++) b.setEgressAllowedBy(i, plain(b.getEgressAllowedBy(i)));
        for (int i = 0; i < b.getIngressAllowedByCount(); i++) b.setIngressAllowedBy(i, plain(b.getIngressAllowedBy(i)));
        for (int i = 0; i < b.getEgressDeniedByCount(); i++) b.setEgressDeniedBy(i, plain(b.getEgressDeniedBy(i)));
        for (int i = 0; i < b.getIngressDeniedByCount(); i++) b.setIngressDeniedBy(i, plain(b.getIngressDeniedBy(i)));
        return b.build();
    }

    static Endpoint endpoint(Endpoint e, boolean keepLabels) {
        Endpoint.Builder b = e.toBuilder().clearIdentity().clearNamespace().clearPodName();
        if (!keepLabels) b.clearLabels();
        return b.build();
    }

    static Policy plain(Policy p) {
        boolean onlyColumns = p.toBuilder().clearKind().clearNamespace().clearName().build().getSerializedSize() == 0
                && !p.getKind().contains("/") && !p.getNamespace().contains("/");
        return onlyColumns ? Policy.getDefaultInstance() : p;
    }

    static void assertColumns(Flow f, ByteString bytes) throws Exception {
        FlowColumns h = new FlowColumns().readHeader(bytes);
        assertThat(List.of(h.hasTime(), h.timeNanos(), h.string(FlowColumns.NODE_NAME), h.string(FlowColumns.SRC_NAMESPACE), h.string(FlowColumns.DST_NAMESPACE)))
                .as("header of %s", f.getUuid())
                .isEqualTo(List.of(f.hasTime(), Timestamps.nanos(f), f.getNodeName(), f.getSource().getNamespace(), f.getDestination().getNamespace()));
        FlowColumns c = new FlowColumns().read(bytes);
        assertThat(read(c)).as("columns of %s", f.getUuid()).isEqualTo(expected(f));
        for (boolean keepLabels : new boolean[] {true, false}) {
            byte[] out = new byte[c.blobBound()];
            int end = c.writeBlob(out, 0, keepLabels);
            var in = com.google.protobuf.CodedInputStream.newInstance(out, 0, end);
            Flow blob = Flow.parseFrom(in.readBytes());
            assertThat(blob).as("blob of %s", f.getUuid()).isEqualTo(stripped(f, keepLabels));
        }
    }

    @Test
    void generatedFlows() throws Exception {
        for (Flow f : new TestFlows(3, "node-a", START).next(5_000)) assertColumns(f, f.toByteString());
    }

    @Test
    void flowsThatHoldOrLackAnything() throws Exception {
        Flow base = new TestFlows(5, "node-a", START).next();
        List<Flow> odd = new ArrayList<>(List.of(
                Flow.getDefaultInstance(),
                Flow.newBuilder().setUuid("bare").build(),
                base.toBuilder().clearSource().clearIP().clearL4().build(),
                base.toBuilder().clearTime().build(),
                base.toBuilder().setTime(base.getTime().toBuilder().setSeconds(-5).setNanos(7)).build(),
                base.toBuilder().setSource(Endpoint.newBuilder().setIdentity(-1)).build(), // identity above 2^31
                base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads().clearPodName()
                        .addLabels("reserved:host").addLabels("reserved:world")).build(),
                base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads()).build(),
                base.toBuilder().setSource(base.getSource().toBuilder().clearWorkloads().addWorkloads(Workload.newBuilder().setKind("Job"))
                        .addWorkloads(Workload.newBuilder().setName("second"))).build(),
                base.toBuilder().setSource(base.getSource().toBuilder().setPodName("pöd-ü")).build(),
                base.toBuilder().setL4(Layer4.newBuilder().setICMPv4(ICMPv4.newBuilder().setType(8))).build(),
                base.toBuilder().setL4(Layer4.newBuilder().setSCTP(SCTP.newBuilder().setSourcePort(9).setDestinationPort(70000))).build(),
                base.toBuilder().setL4(Layer4.getDefaultInstance()).build(),
                base.toBuilder().addEgressAllowedBy(Policy.newBuilder().setName("a")).addIngressDeniedBy(Policy.newBuilder().setKind("K").setNamespace("n"))
                        .addEgressDeniedBy(Policy.getDefaultInstance()).addIngressAllowedBy(Policy.newBuilder().setName("b").setRevision(3))
                        .addEgressAllowedBy(Policy.newBuilder().setKind("A/B").setNamespace("x").setName("y/z")).build(),
                base.toBuilder().setVerdictValue(200).setDropReasonDescValue(70000).setTrafficDirectionValue(3).build(),
                base.toBuilder().setL7(Layer7.newBuilder().setType(L7FlowType.RESPONSE).setLatencyNs(-1L)
                        .setDns(DNS.newBuilder().setQuery("api.example.com.").addIps("1.2.3.4").addIps("2001:db8::1").setTtl(30).addCnames("x.")
                                .setRcode(70000).addQtypes("A").addQtypes("AAAA").addRrtypes("A"))).build(),
                base.toBuilder().setL7(Layer7.newBuilder().setType(L7FlowType.REQUEST)
                        .setHttp(HTTP.newBuilder().setCode(0).setMethod("DELETE").setUrl("http://ü/ä?q=1").setProtocol("HTTP/2")
                                .addHeaders(HTTPHeader.newBuilder().setKey("k").setValue("v")))).build(),
                base.toBuilder().setL7(Layer7.newBuilder().setTypeValue(3)).build(),
                base.toBuilder().setL7(kafka(-29, "produce", "orders")).build(),
                base.toBuilder().setL7(Layer7.getDefaultInstance()).build(),
                base.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(4000, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build()).build()));
        for (int i = 0; i < odd.size(); i++) {
            Flow f = odd.get(i).toBuilder().setUuid(odd.get(i).getUuid() + "#" + i).build();
            assertColumns(f, f.toByteString());
        }
    }

    /** A Kafka record, built by descriptor (its message is deprecated). */
    static Layer7 kafka(int errorCode, String apiKey, String topic) {
        var f = Layer7.getDescriptor().findFieldByName("kafka");
        var kd = f.getMessageType();
        var k = com.google.protobuf.DynamicMessage.newBuilder(kd).setField(kd.findFieldByName("error_code"), errorCode)
                .setField(kd.findFieldByName("api_version"), 9).setField(kd.findFieldByName("api_key"), apiKey)
                .setField(kd.findFieldByName("correlation_id"), 7).setField(kd.findFieldByName("topic"), topic).build();
        try {
            return Layer7.parseFrom(com.google.protobuf.DynamicMessage.newBuilder(Layer7.getDescriptor()).setField(f, k).build().toByteString())
                    .toBuilder().setType(L7FlowType.REQUEST).build();
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aSecondL7RecordIsResolvedAsAParserWould() throws Exception {
        Flow base = new TestFlows(9, "node-a", START).next().toBuilder().clearL7().build();
        Flow dns = Flow.newBuilder().setL7(Layer7.newBuilder().setDns(DNS.newBuilder().setQuery("a.").addIps("1.1.1.1"))).build();
        Flow http = Flow.newBuilder().setL7(Layer7.newBuilder().setLatencyNs(5).setHttp(HTTP.newBuilder().setMethod("GET"))).build();
        Flow dns2 = Flow.newBuilder().setL7(Layer7.newBuilder().setDns(DNS.newBuilder().addIps("2.2.2.2").setRcode(3))).build();
        for (ByteString bytes : List.of(base.toByteString().concat(dns.toByteString()).concat(http.toByteString()), // oneof: the last record wins
                base.toByteString().concat(dns.toByteString()).concat(dns2.toByteString()))) { // the same record twice: merged
            assertColumns(Flow.parseFrom(bytes), bytes);
        }
        assertThat(new FlowColumns().read(base.toByteString().concat(dns.toByteString()).concat(dns2.toByteString())).list(FlowColumns.DNS_IPS))
                .containsExactly("1.1.1.1", "2.2.2.2");
    }

    @Test
    void policyListsInterleavedOnTheWireAreReadInColumnOrder() throws Exception {
        Flow denied = Flow.newBuilder().addIngressDeniedBy(Policy.newBuilder().setKind("K").setNamespace("n").setName("d")).build();
        Flow allowed = Flow.newBuilder().addEgressAllowedBy(Policy.newBuilder().setKind("K").setNamespace("n").setName("a")).build();
        ByteString bytes = denied.toByteString().concat(allowed.toByteString());
        assertColumns(Flow.parseFrom(bytes), bytes);
    }

    @Test
    void whatOnlyAParserHandlesIsReadFromItsCanonicalEncoding() throws Exception {
        Flow base = new TestFlows(9, "node-a", START).next();
        // the source endpoint twice: a parser merges the two
        ByteString twice = base.toByteString().concat(Flow.newBuilder().setSource(Endpoint.newBuilder().setPodName("merged")).build().toByteString());
        Flow merged = Flow.parseFrom(twice);
        assertThat(merged.getSource().getPodName()).isEqualTo("merged");
        assertColumns(merged, twice);
    }

    @Test
    void bytesThatAreNoFlowAreRefused() {
        Flow base = new TestFlows(9, "node-a", START).next();
        ByteString bytes = base.toByteString();
        assertThatThrownBy(() -> new FlowColumns().read(bytes.substring(0, bytes.size() - 3))).isInstanceOf(InvalidProtocolBufferException.class);
        assertThatThrownBy(() -> new FlowColumns().read(bytes.substring(0, 1))).isInstanceOf(InvalidProtocolBufferException.class);
        // a string no column reads, deep inside, that is not UTF-8 (Summary, field 100000): a parser refuses it, so does the reader
        ByteString notUtf8 = bytes.concat(ByteString.copyFrom(new byte[] {(byte) 0x82, (byte) 0xEA, 0x30, 2, (byte) 0xC3, 0x28}));
        assertThatThrownBy(() -> Flow.parseFrom(notUtf8)).isInstanceOf(InvalidProtocolBufferException.class);
        assertThatThrownBy(() -> new FlowColumns().read(notUtf8)).isInstanceOf(InvalidProtocolBufferException.class);
        // a pod name that is not UTF-8
        ByteString badPod = ByteString.copyFrom(new byte[] {(8 << 3) | 2, 4, (5 << 3) | 2, 2, (byte) 0xC3, 0x28});
        assertThatThrownBy(() -> new FlowColumns().read(badPod)).isInstanceOf(InvalidProtocolBufferException.class);
    }

    /** The wire reader refuses exactly what protobuf's parser refuses: flows with one byte changed, or cut short. */
    @Test
    void damagedBytesAreRefusedExactlyWhenTheParserRefusesThem() throws Exception {
        TestFlows g = new TestFlows(11, "node-a", START);
        java.util.Random rnd = new java.util.Random(5);
        int refused = 0, accepted = 0;
        for (int k = 0; k < 3000; k++) {
            byte[] b = g.next().toByteArray();
            int n = b.length;
            if (k % 3 == 0) n = rnd.nextInt(b.length);
            else b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            ByteString bytes = ByteString.copyFrom(b, 0, n);
            boolean parses;
            try {
                Flow.parseFrom(bytes);
                parses = true;
            } catch (InvalidProtocolBufferException e) {
                parses = false;
            }
            boolean reads;
            try {
                new FlowColumns().read(bytes);
                reads = true;
            } catch (InvalidProtocolBufferException e) {
                reads = false;
            }
            assertThat(reads).as("flow %d (%s): read as the parser does", k, bytes).isEqualTo(parses);
            if (parses) {
                accepted++;
                assertColumns(Flow.parseFrom(bytes), bytes);
            } else {
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(100);
        assertThat(accepted).isGreaterThan(100);
    }
}
