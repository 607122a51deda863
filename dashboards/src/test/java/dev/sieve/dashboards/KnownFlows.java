package dev.sieve.dashboards;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.CiliumEventType;
import dev.sieve.api.flow.DNS;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.UDP;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A small cluster's hour of flows whose every aggregate is known by hand (the expectations in
 * {@link ClickHouseDashboardsTest} are counted from this list). The range is 10:00-11:00 UTC on 2026-11-20;
 * the flows of group {@code F6} lie before it. Flow {@code i} of a group is at second {@code i} of its minute.
 *
 * <pre>
 * F1  10:05 node-a production/frontend -> production/backend   TCP 8080 FORWARDED ingress allow-fe-be   x30
 * F2  10:10 node-b production/backend  -> production/database  TCP 5432 FORWARDED egress  allow-be-db   x20
 * F3  10:10 node-b development/dev-client -> production/database TCP 5432 DROPPED POLICY_DENIED ingress x10
 * F4  10:20 node-a production/frontend -> world 8.8.8.8        UDP 53   DROPPED POLICY_DENY egress deny-world x5
 * F5  10:30 node-a monitoring/prometheus -> production/backend TCP 9090 AUDIT ingress                    x4
 * F6  09:50 node-a production/frontend -> production/backend   TCP 8080 FORWARDED old-policy (outside)  x7
 * F7  10:40 node-a production/frontend -> kube-system/coredns  UDP 53 FORWARDED allow-dns, DNS request api.example.com. A x6
 * F8  10:40 node-a kube-system/coredns -> production/frontend  UDP reply, DNS response rcode 0 x4 (93.184.216.34), 5 x2
 * F9  10:40 node-a production/frontend -> kube-system/coredns  UDP 53 DROPPED POLICY_DENIED, DNS request evil.example.org. x1
 * F10 10:45 node-b production/backend -> production/frontend   TCP reply, HTTP responses GET 200 10/20/30 ms x3, POST 500 100 ms x1
 * F11 10:50 node-b production/backend -> production/kafka      TCP 9092 Kafka requests produce payments FORWARDED x3, produce orders DROPPED x1
 * F12 10:51 node-b production/kafka -> production/backend      TCP reply, Kafka responses produce payments 0 (2/4/6 ms) x3, orders 29 (1 ms) x1
 * </pre>
 *
 * The L7 flows carry Layer7 records as the node's proxies write them; the relay's writer fills the L7
 * columns from them (nothing here sets a column).
 */
final class KnownFlows {
    private KnownFlows() {}

    static final Instant FROM = Instant.parse("2026-11-20T10:00:00Z"), TO = Instant.parse("2026-11-20T11:00:00Z");

    static final Endpoint FRONTEND = pod("production", "frontend-7d4b9", "frontend", 1001);
    static final Endpoint BACKEND = pod("production", "backend-5f6c8", "backend", 1002);
    static final Endpoint DATABASE = pod("production", "database-0", "database", 1003);
    static final Endpoint DEV_CLIENT = Endpoint.newBuilder().setNamespace("development").setPodName("dev-client").setIdentity(1004)
            .addLabels("k8s:app=dev-client").build(); // no workload: the pod name stands in
    static final Endpoint PROMETHEUS = pod("monitoring", "prometheus-0", "prometheus", 1005);
    static final Endpoint COREDNS = pod("kube-system", "coredns-6d8c", "coredns", 1006);
    static final Endpoint KAFKA = pod("production", "kafka-0", "kafka", 1007);
    static final Endpoint WORLD = Endpoint.newBuilder().setIdentity(2).addLabels("reserved:world").build();
    static final String IP_FRONTEND = "10.0.1.10", IP_BACKEND = "10.0.1.20", IP_DATABASE = "10.0.1.30", IP_DEV = "10.0.2.10",
            IP_PROMETHEUS = "10.0.3.10", IP_COREDNS = "10.0.4.10", IP_WORLD = "8.8.8.8",
            IP_KAFKA = "10.0.1.40";

    static Policy policy(String namespace, String name) {
        return Policy.newBuilder().setKind("CiliumNetworkPolicy").setNamespace(namespace).setName(name).build();
    }

    static final Policy ALLOW_FE_BE = policy("production", "allow-fe-be"), ALLOW_BE_DB = policy("production", "allow-be-db"),
            DENY_WORLD = policy("production", "deny-world"), OLD = policy("production", "old-policy"), ALLOW_DNS = policy("kube-system", "allow-dns");

    /** The flows of one node, in time order. */
    record NodeFlows(String node, List<Flow> flows) {}

    static List<NodeFlows> all() {
        List<Flow> a = new ArrayList<>(), b = new ArrayList<>();
        group(a, "F6", "09:50", 7, i -> tcp(FRONTEND, IP_FRONTEND, BACKEND, IP_BACKEND, 40000 + i, 8080, Verdict.FORWARDED, TrafficDirection.INGRESS)
                .addIngressAllowedBy(OLD));
        group(a, "F1", "10:05", 30, i -> tcp(FRONTEND, IP_FRONTEND, BACKEND, IP_BACKEND, 40000 + i, 8080, Verdict.FORWARDED, TrafficDirection.INGRESS)
                .addIngressAllowedBy(ALLOW_FE_BE));
        group(b, "F2", "10:10", 20, i -> tcp(BACKEND, IP_BACKEND, DATABASE, IP_DATABASE, 41000 + i, 5432, Verdict.FORWARDED, TrafficDirection.EGRESS)
                .addEgressAllowedBy(ALLOW_BE_DB));
        group(b, "F3", "10:10", 10, i -> tcp(DEV_CLIENT, IP_DEV, DATABASE, IP_DATABASE, 42000 + i, 5432, Verdict.DROPPED, TrafficDirection.INGRESS)
                .setDropReasonDesc(DropReason.POLICY_DENIED));
        group(a, "F4", "10:20", 5, i -> udp(FRONTEND, IP_FRONTEND, WORLD, IP_WORLD, 53000 + i, 53, Verdict.DROPPED, TrafficDirection.EGRESS, false)
                .setDropReasonDesc(DropReason.POLICY_DENY).addEgressDeniedBy(DENY_WORLD));
        group(a, "F5", "10:30", 4, i -> tcp(PROMETHEUS, IP_PROMETHEUS, BACKEND, IP_BACKEND, 43000 + i, 9090, Verdict.AUDIT, TrafficDirection.INGRESS));
        group(a, "F7", "10:40", 6, i -> udp(FRONTEND, IP_FRONTEND, COREDNS, IP_COREDNS, 44000 + i, 53, Verdict.FORWARDED, TrafficDirection.EGRESS, false)
                .addEgressAllowedBy(ALLOW_DNS).setL7(dns(L7FlowType.REQUEST, "api.example.com.", 0)));
        group(a, "F8", "10:40", 6, i -> udp(COREDNS, IP_COREDNS, FRONTEND, IP_FRONTEND, 53, 44000 + i, Verdict.FORWARDED, TrafficDirection.INGRESS, true)
                .setL7(dns(L7FlowType.RESPONSE, "api.example.com.", i < 4 ? 0 : 5)));
        group(a, "F9", "10:40", 1, i -> udp(FRONTEND, IP_FRONTEND, COREDNS, IP_COREDNS, 45000, 53, Verdict.DROPPED, TrafficDirection.EGRESS, false)
                .setDropReasonDesc(DropReason.POLICY_DENIED).setL7(dns(L7FlowType.REQUEST, "evil.example.org.", 0)));
        long[] latencyMs = {10, 20, 30, 100};
        group(b, "F10", "10:45", 4, i -> tcp(BACKEND, IP_BACKEND, FRONTEND, IP_FRONTEND, 8080, 40000 + i, Verdict.FORWARDED, TrafficDirection.EGRESS)
                .setIsReply(BoolValue.of(true))
                .setL7(Layer7.newBuilder().setType(L7FlowType.RESPONSE).setLatencyNs(latencyMs[i] * 1_000_000L)
                        .setHttp(HTTP.newBuilder().setMethod(i < 3 ? "GET" : "POST").setCode(i < 3 ? 200 : 500).setUrl("http://backend/api").setProtocol("HTTP/1.1"))));
        long[] kafkaMs = {2, 4, 6, 1};
        group(b, "F11", "10:50", 4, i -> tcp(BACKEND, IP_BACKEND, KAFKA, IP_KAFKA, 46000 + i, 9092, i < 3 ? Verdict.FORWARDED : Verdict.DROPPED,
                TrafficDirection.EGRESS).setL7(kafka(L7FlowType.REQUEST, 0, "produce", i < 3 ? "payments" : "orders", 0)));
        group(b, "F12", "10:51", 4, i -> tcp(KAFKA, IP_KAFKA, BACKEND, IP_BACKEND, 9092, 46000 + i, Verdict.FORWARDED, TrafficDirection.EGRESS)
                .setIsReply(BoolValue.of(true)).setL7(kafka(L7FlowType.RESPONSE, kafkaMs[i] * 1_000_000L, "produce", i < 3 ? "payments" : "orders", i < 3 ? 0 : 29)));
        // each node's flows carry its name; order within a node's batch does not matter to the store
        return List.of(new NodeFlows("node-a", withNode(a, "node-a")), new NodeFlows("node-b", withNode(b, "node-b")));
    }

    private static List<Flow> withNode(List<Flow> flows, String node) {
        return flows.stream().map(f -> f.toBuilder().setNodeName(node).build()).toList();
    }

    private static void group(List<Flow> out, String name, String minute, int n, java.util.function.IntFunction<Flow.Builder> flow) {
        Instant at = Instant.parse("2026-11-20T" + minute + ":00Z");
        for (int i = 0; i < n; i++) {
            Instant t = at.plusSeconds(i);
            out.add(flow.apply(i).setTime(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(1000 * i))
                    .setUuid(UUID.nameUUIDFromBytes((name + "/" + i).getBytes()).toString()).build());
        }
    }

    private static Endpoint pod(String ns, String pod, String workload, int identity) {
        return Endpoint.newBuilder().setNamespace(ns).setPodName(pod).setIdentity(identity).addLabels("k8s:app=" + workload)
                .addWorkloads(Workload.newBuilder().setName(workload).setKind("Deployment")).build();
    }

    private static Flow.Builder base(Endpoint src, String srcIp, Endpoint dst, String dstIp, Verdict v, TrafficDirection dir) {
        return Flow.newBuilder().setVerdict(v).setTrafficDirection(dir).setSource(src).setDestination(dst)
                .setIP(IP.newBuilder().setSource(srcIp).setDestination(dstIp).setIpVersion(IPVersion.IPv4))
                .setEventType(CiliumEventType.newBuilder().setType(v == Verdict.DROPPED ? 1 : 5)).setIsReply(BoolValue.of(false));
    }

    private static Flow.Builder tcp(Endpoint src, String srcIp, Endpoint dst, String dstIp, int sport, int dport, Verdict v, TrafficDirection dir) {
        return base(src, srcIp, dst, dstIp, v, dir).setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(sport).setDestinationPort(dport)
                .setFlags(TCPFlags.newBuilder().setSYN(true))));
    }

    private static Flow.Builder udp(Endpoint src, String srcIp, Endpoint dst, String dstIp, int sport, int dport, Verdict v, TrafficDirection dir, boolean reply) {
        return base(src, srcIp, dst, dstIp, v, dir).setIsReply(BoolValue.of(reply))
                .setL4(Layer4.newBuilder().setUDP(UDP.newBuilder().setSourcePort(sport).setDestinationPort(dport)));
    }

    private static Layer7 dns(L7FlowType type, String query, int rcode) {
        DNS.Builder d = DNS.newBuilder().setQuery(query).addQtypes("A").setRcode(rcode);
        if (type == L7FlowType.RESPONSE && rcode == 0) d.addIps("93.184.216.34");
        return Layer7.newBuilder().setType(type).setDns(d).build();
    }

    /** A Kafka record as the Kafka proxy writes it (built by descriptor: Hubble deprecated the message, Sieve still sends it). */
    static Layer7 kafka(L7FlowType type, long latencyNs, String apiKey, String topic, int errorCode) {
        var field = Layer7.getDescriptor().findFieldByName("kafka");
        var k = field.getMessageType();
        var record = com.google.protobuf.DynamicMessage.newBuilder(k).setField(k.findFieldByName("api_key"), apiKey)
                .setField(k.findFieldByName("api_version"), 9).setField(k.findFieldByName("correlation_id"), 1).setField(k.findFieldByName("topic"), topic)
                .setField(k.findFieldByName("error_code"), errorCode).build();
        try {
            return Layer7.parseFrom(com.google.protobuf.DynamicMessage.newBuilder(Layer7.getDescriptor()).setField(field, record).build().toByteString())
                    .toBuilder().setType(type).setLatencyNs(latencyNs).build();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
