package dev.sieve.api;

import static com.google.protobuf.Descriptors.FieldDescriptor.Type.BOOL;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.DOUBLE;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.ENUM;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.INT32;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.INT64;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.MESSAGE;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.STRING;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.UINT32;
import static com.google.protobuf.Descriptors.FieldDescriptor.Type.UINT64;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor.Type;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.FlowProto;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.LostEvent;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TraceObservationPoint;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.Node;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.api.peer.ChangeNotification;
import dev.sieve.api.peer.ChangeNotificationType;
import dev.sieve.api.peer.PeerGrpc;
import dev.sieve.api.relay.NodeState;
import dev.sieve.api.relay.NodeStatusEvent;
import io.grpc.MethodDescriptor.MethodType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Pins the wire contract shared with Hubble: names, numbers and types that a stock Hubble client
 * relies on. Every expectation here was checked against Hubble's own .proto files (see
 * api/README.md); a failure means the wire format changed, which is never acceptable for the
 * Hubble-compatible packages.
 */
class WireContractTest {

    private static void field(Descriptor msg, String name, int number, Type type) {
        FieldDescriptor f = msg.findFieldByNumber(number);
        assertThat(f).as("%s field #%d", msg.getFullName(), number).isNotNull();
        assertThat(f.getName()).as("%s #%d name", msg.getFullName(), number).isEqualTo(name);
        assertThat(f.getType()).as("%s.%s type", msg.getFullName(), name).isEqualTo(type);
        assertThat(f.isRepeated()).as("%s.%s repeated", msg.getFullName(), name).isFalse();
    }

    private static void field(Descriptor msg, String name, int number, Type type, String typeName) {
        field(msg, name, number, type);
        assertThat(typeName(msg.findFieldByNumber(number))).as("%s.%s type name", msg.getFullName(), name)
                .isEqualTo(typeName);
    }

    private static void repeated(Descriptor msg, String name, int number, Type type) {
        FieldDescriptor f = msg.findFieldByNumber(number);
        assertThat(f).as("%s field #%d", msg.getFullName(), number).isNotNull();
        assertThat(f.getName()).as("%s #%d name", msg.getFullName(), number).isEqualTo(name);
        assertThat(f.getType()).as("%s.%s type", msg.getFullName(), name).isEqualTo(type);
        assertThat(f.isRepeated()).as("%s.%s repeated", msg.getFullName(), name).isTrue();
    }

    private static void repeated(Descriptor msg, String name, int number, Type type, String typeName) {
        repeated(msg, name, number, type);
        assertThat(typeName(msg.findFieldByNumber(number))).as("%s.%s type name", msg.getFullName(), name)
                .isEqualTo(typeName);
    }

    private static String typeName(FieldDescriptor f) {
        return switch (f.getJavaType()) {
            case MESSAGE -> f.getMessageType().getFullName();
            case ENUM -> f.getEnumType().getFullName();
            default -> f.getType().name();
        };
    }

    private static Map<Integer, String> values(EnumDescriptor e) {
        return e.getValues().stream()
                .collect(Collectors.toMap(EnumValueDescriptor::getNumber, EnumValueDescriptor::getName,
                        (a, b) -> a, TreeMap::new));
    }

    @Test
    void protoPackagesAndFilesMatchHubble() {
        assertThat(FlowProto.getDescriptor().getPackage()).isEqualTo("flow");
        assertThat(FlowProto.getDescriptor().getName()).isEqualTo("flow/flow.proto");
        assertThat(Flow.getDescriptor().getFullName()).isEqualTo("flow.Flow");
        assertThat(FlowFilter.getDescriptor().getFullName()).isEqualTo("flow.FlowFilter");
        assertThat(GetFlowsRequest.getDescriptor().getFullName()).isEqualTo("observer.GetFlowsRequest");
        assertThat(GetFlowsRequest.getDescriptor().getFile().getName()).isEqualTo("observer/observer.proto");
        assertThat(NodeStatusEvent.getDescriptor().getFullName()).isEqualTo("relay.NodeStatusEvent");
        assertThat(ChangeNotification.getDescriptor().getFullName()).isEqualTo("peer.ChangeNotification");
        assertThat(FlowBatch.getDescriptor().getFullName()).isEqualTo("sieve.ingest.v1.FlowBatch");
    }

    @Test
    void flowFields() {
        Descriptor d = Flow.getDescriptor();
        field(d, "time", 1, MESSAGE, "google.protobuf.Timestamp");
        field(d, "verdict", 2, ENUM, "flow.Verdict");
        field(d, "drop_reason", 3, UINT32);
        assertThat(d.findFieldByNumber(3).getOptions().getDeprecated()).isTrue();
        field(d, "ethernet", 4, MESSAGE, "flow.Ethernet");
        field(d, "IP", 5, MESSAGE, "flow.IP");
        field(d, "l4", 6, MESSAGE, "flow.Layer4");
        assertThat(d.findFieldByNumber(7)).as("7 is reserved").isNull();
        field(d, "source", 8, MESSAGE, "flow.Endpoint");
        field(d, "destination", 9, MESSAGE, "flow.Endpoint");
        field(d, "Type", 10, ENUM, "flow.FlowType");
        field(d, "node_name", 11, STRING);
        assertThat(d.findFieldByNumber(12)).as("12 is reserved").isNull();
        repeated(d, "source_names", 13, STRING);
        repeated(d, "destination_names", 14, STRING);
        field(d, "l7", 15, MESSAGE, "flow.Layer7");
        field(d, "reply", 16, BOOL);
        assertThat(d.findFieldByNumber(17)).isNull();
        assertThat(d.findFieldByNumber(18)).isNull();
        field(d, "event_type", 19, MESSAGE, "flow.CiliumEventType");
        field(d, "source_service", 20, MESSAGE, "flow.Service");
        field(d, "destination_service", 21, MESSAGE, "flow.Service");
        field(d, "traffic_direction", 22, ENUM, "flow.TrafficDirection");
        field(d, "policy_match_type", 23, UINT32);
        field(d, "trace_observation_point", 24, ENUM, "flow.TraceObservationPoint");
        field(d, "drop_reason_desc", 25, ENUM, "flow.DropReason");
        field(d, "is_reply", 26, MESSAGE, "google.protobuf.BoolValue");
        field(d, "debug_capture_point", 27, ENUM, "flow.DebugCapturePoint");
        field(d, "interface", 28, MESSAGE, "flow.NetworkInterface");
        field(d, "proxy_port", 29, UINT32);
        field(d, "trace_context", 30, MESSAGE, "flow.TraceContext");
        field(d, "sock_xlate_point", 31, ENUM, "flow.SocketTranslationPoint");
        field(d, "socket_cookie", 32, UINT64);
        field(d, "cgroup_id", 33, UINT64);
        field(d, "uuid", 34, STRING);
        field(d, "auth_type", 35, ENUM, "flow.AuthType");
        field(d, "trace_reason", 36, ENUM, "flow.TraceReason");
        repeated(d, "node_labels", 37, STRING);
        field(d, "file", 38, MESSAGE, "flow.FileInfo");
        field(d, "tunnel", 39, MESSAGE, "flow.Tunnel");
        repeated(d, "egress_allowed_by", 21001, MESSAGE, "flow.Policy");
        repeated(d, "ingress_allowed_by", 21002, MESSAGE, "flow.Policy");
        assertThat(d.findFieldByNumber(21003)).isNull();
        repeated(d, "egress_denied_by", 21004, MESSAGE, "flow.Policy");
        repeated(d, "ingress_denied_by", 21005, MESSAGE, "flow.Policy");
        repeated(d, "policy_log", 21006, STRING);
        field(d, "aggregate", 21007, MESSAGE, "flow.Aggregate");
        field(d, "Summary", 100000, STRING);
        field(d, "extensions", 150000, MESSAGE, "google.protobuf.Any");
    }

    @Test
    void nestedFlowMessages() {
        Descriptor ep = Endpoint.getDescriptor();
        field(ep, "ID", 1, UINT32);
        field(ep, "identity", 2, UINT32);
        field(ep, "namespace", 3, STRING);
        repeated(ep, "labels", 4, STRING);
        field(ep, "pod_name", 5, STRING);
        repeated(ep, "workloads", 6, MESSAGE, "flow.Workload");
        field(ep, "cluster_name", 7, STRING);

        Descriptor ip = IP.getDescriptor();
        field(ip, "source", 1, STRING);
        field(ip, "destination", 2, STRING);
        field(ip, "ipVersion", 3, ENUM, "flow.IPVersion");
        field(ip, "encrypted", 4, BOOL);
        field(ip, "source_xlated", 5, STRING);

        Descriptor l4 = Layer4.getDescriptor();
        field(l4, "TCP", 1, MESSAGE, "flow.TCP");
        field(l4, "UDP", 2, MESSAGE, "flow.UDP");
        field(l4, "ICMPv4", 3, MESSAGE, "flow.ICMPv4");
        field(l4, "ICMPv6", 4, MESSAGE, "flow.ICMPv6");
        field(l4, "SCTP", 5, MESSAGE, "flow.SCTP");
        assertThat(l4.getOneofs()).singleElement().satisfies(o -> assertThat(o.getName()).isEqualTo("protocol"));

        Descriptor tcp = TCP.getDescriptor();
        field(tcp, "source_port", 1, UINT32);
        field(tcp, "destination_port", 2, UINT32);
        field(tcp, "flags", 3, MESSAGE, "flow.TCPFlags");
        Descriptor flags = tcp.findFieldByNumber(3).getMessageType();
        String[] flagNames = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"};
        for (int i = 0; i < flagNames.length; i++) {
            field(flags, flagNames[i], i + 1, BOOL);
        }

        Descriptor l7 = Layer7.getDescriptor();
        field(l7, "type", 1, ENUM, "flow.L7FlowType");
        field(l7, "latency_ns", 2, UINT64);
        field(l7, "dns", 100, MESSAGE, "flow.DNS");
        field(l7, "http", 101, MESSAGE, "flow.HTTP");
        field(l7, "kafka", 102, MESSAGE, "flow.Kafka");
        Descriptor http = l7.findFieldByNumber(101).getMessageType();
        field(http, "code", 1, UINT32);
        field(http, "method", 2, STRING);
        field(http, "url", 3, STRING);
        field(http, "protocol", 4, STRING);
        repeated(http, "headers", 5, MESSAGE, "flow.HTTPHeader");
        Descriptor dns = l7.findFieldByNumber(100).getMessageType();
        field(dns, "query", 1, STRING);
        repeated(dns, "ips", 2, STRING);
        field(dns, "ttl", 3, UINT32);
        field(dns, "rcode", 6, UINT32);
        repeated(dns, "qtypes", 7, STRING);

        Descriptor policy = Policy.getDescriptor();
        field(policy, "name", 1, STRING);
        field(policy, "namespace", 2, STRING);
        repeated(policy, "labels", 3, STRING);
        field(policy, "revision", 4, UINT64);
        field(policy, "kind", 5, STRING);

        Descriptor lost = LostEvent.getDescriptor();
        field(lost, "source", 1, ENUM, "flow.LostEventSource");
        field(lost, "num_events_lost", 2, UINT64);
        field(lost, "cpu", 3, MESSAGE, "google.protobuf.Int32Value");

        Descriptor agent = dev.sieve.api.flow.AgentEvent.getDescriptor();
        field(agent, "type", 1, ENUM, "flow.AgentEventType");
        field(agent, "agent_start", 101, MESSAGE, "flow.TimeNotification");
        field(agent, "policy_update", 102, MESSAGE, "flow.PolicyUpdateNotification");
        Descriptor pun = agent.findFieldByNumber(102).getMessageType();
        field(pun, "rule_count", 3, INT64);

        Descriptor ctype = dev.sieve.api.flow.CiliumEventType.getDescriptor();
        field(ctype, "type", 1, INT32);
        field(ctype, "sub_type", 2, INT32);
    }

    @Test
    void flowFilterFields() {
        Descriptor d = FlowFilter.getDescriptor();
        repeated(d, "source_ip", 1, STRING);
        repeated(d, "source_pod", 2, STRING);
        repeated(d, "destination_ip", 3, STRING);
        repeated(d, "destination_pod", 4, STRING);
        repeated(d, "verdict", 5, ENUM, "flow.Verdict");
        repeated(d, "event_type", 6, MESSAGE, "flow.EventTypeFilter");
        repeated(d, "source_fqdn", 7, STRING);
        repeated(d, "destination_fqdn", 8, STRING);
        repeated(d, "http_status_code", 9, STRING);
        repeated(d, "source_label", 10, STRING);
        repeated(d, "destination_label", 11, STRING);
        repeated(d, "protocol", 12, STRING);
        repeated(d, "source_port", 13, STRING);
        repeated(d, "destination_port", 14, STRING);
        repeated(d, "reply", 15, BOOL);
        repeated(d, "source_service", 16, STRING);
        repeated(d, "destination_service", 17, STRING);
        repeated(d, "dns_query", 18, STRING);
        repeated(d, "source_identity", 19, UINT32);
        repeated(d, "destination_identity", 20, UINT32);
        repeated(d, "http_method", 21, STRING);
        repeated(d, "http_path", 22, STRING);
        repeated(d, "tcp_flags", 23, MESSAGE, "flow.TCPFlags");
        repeated(d, "node_name", 24, STRING);
        repeated(d, "ip_version", 25, ENUM, "flow.IPVersion");
        repeated(d, "source_workload", 26, MESSAGE, "flow.Workload");
        repeated(d, "destination_workload", 27, MESSAGE, "flow.Workload");
        repeated(d, "trace_id", 28, STRING);
        repeated(d, "uuid", 29, STRING);
        repeated(d, "traffic_direction", 30, ENUM, "flow.TrafficDirection");
        repeated(d, "http_url", 31, STRING);
        repeated(d, "http_header", 32, MESSAGE, "flow.HTTPHeader");
        repeated(d, "drop_reason_desc", 33, ENUM, "flow.DropReason");
        repeated(d, "source_ip_xlated", 34, STRING);
        repeated(d, "interface", 35, MESSAGE, "flow.NetworkInterface");
        repeated(d, "node_labels", 36, STRING);
        repeated(d, "source_cluster_name", 37, STRING);
        repeated(d, "destination_cluster_name", 38, STRING);
        field(d, "experimental", 999, MESSAGE, "flow.FlowFilter.Experimental");

        Descriptor etf = dev.sieve.api.flow.EventTypeFilter.getDescriptor();
        field(etf, "type", 1, INT32);
        field(etf, "match_sub_type", 2, BOOL);
        field(etf, "sub_type", 3, INT32);
    }

    @Test
    void observerMessages() {
        Descriptor req = GetFlowsRequest.getDescriptor();
        field(req, "number", 1, UINT64);
        assertThat(req.findFieldByNumber(2)).as("2 is reserved").isNull();
        field(req, "follow", 3, BOOL);
        repeated(req, "blacklist", 5, MESSAGE, "flow.FlowFilter");
        repeated(req, "whitelist", 6, MESSAGE, "flow.FlowFilter");
        field(req, "since", 7, MESSAGE, "google.protobuf.Timestamp");
        field(req, "until", 8, MESSAGE, "google.protobuf.Timestamp");
        field(req, "first", 9, BOOL);
        field(req, "field_mask", 10, MESSAGE, "google.protobuf.FieldMask");
        field(req, "experimental", 999, MESSAGE, "observer.GetFlowsRequest.Experimental");
        field(req, "extensions", 150000, MESSAGE, "google.protobuf.Any");

        Descriptor resp = GetFlowsResponse.getDescriptor();
        field(resp, "flow", 1, MESSAGE, "flow.Flow");
        field(resp, "node_status", 2, MESSAGE, "relay.NodeStatusEvent");
        field(resp, "lost_events", 3, MESSAGE, "flow.LostEvent");
        field(resp, "node_name", 1000, STRING);
        field(resp, "time", 1001, MESSAGE, "google.protobuf.Timestamp");
        assertThat(resp.getOneofs()).singleElement()
                .satisfies(o -> assertThat(o.getName()).isEqualTo("response_types"));

        Descriptor st = ServerStatusResponse.getDescriptor();
        field(st, "num_flows", 1, UINT64);
        field(st, "max_flows", 2, UINT64);
        field(st, "seen_flows", 3, UINT64);
        field(st, "uptime_ns", 4, UINT64);
        field(st, "num_connected_nodes", 5, MESSAGE, "google.protobuf.UInt32Value");
        field(st, "num_unavailable_nodes", 6, MESSAGE, "google.protobuf.UInt32Value");
        repeated(st, "unavailable_nodes", 7, STRING);
        field(st, "version", 8, STRING);
        field(st, "flows_rate", 9, DOUBLE);

        Descriptor node = Node.getDescriptor();
        field(node, "name", 1, STRING);
        field(node, "version", 2, STRING);
        field(node, "address", 3, STRING);
        field(node, "state", 4, ENUM, "relay.NodeState");
        field(node, "tls", 5, MESSAGE, "observer.TLS");
        field(node, "uptime_ns", 6, UINT64);
        field(node, "num_flows", 7, UINT64);
        field(node, "max_flows", 8, UINT64);
        field(node, "seen_flows", 9, UINT64);

        Descriptor ns = dev.sieve.api.observer.Namespace.getDescriptor();
        field(ns, "cluster", 1, STRING);
        field(ns, "namespace", 2, STRING);

        Descriptor agentReq = dev.sieve.api.observer.GetAgentEventsRequest.getDescriptor();
        field(agentReq, "number", 1, UINT64);
        field(agentReq, "follow", 2, BOOL);
        field(agentReq, "since", 7, MESSAGE, "google.protobuf.Timestamp");
        field(agentReq, "until", 8, MESSAGE, "google.protobuf.Timestamp");
        field(agentReq, "first", 9, BOOL);

        Descriptor nse = NodeStatusEvent.getDescriptor();
        field(nse, "state_change", 1, ENUM, "relay.NodeState");
        repeated(nse, "node_names", 2, STRING);
        field(nse, "message", 3, STRING);

        Descriptor cn = ChangeNotification.getDescriptor();
        field(cn, "name", 1, STRING);
        field(cn, "address", 2, STRING);
        field(cn, "type", 3, ENUM, "peer.ChangeNotificationType");
        field(cn, "tls", 4, MESSAGE, "peer.TLS");
    }

    @Test
    void verdictAndSmallEnums() {
        assertThat(values(Verdict.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "VERDICT_UNKNOWN", 1, "FORWARDED", 2, "DROPPED", 3, "ERROR", 4, "AUDIT",
                5, "REDIRECTED", 6, "TRACED", 7, "TRANSLATED"));
        assertThat(values(TrafficDirection.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "TRAFFIC_DIRECTION_UNKNOWN", 1, "INGRESS", 2, "EGRESS"));
        assertThat(values(FlowType.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "UNKNOWN_TYPE", 1, "L3_L4", 2, "L7", 3, "SOCK"));
        assertThat(values(TraceObservationPoint.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "UNKNOWN_POINT", 1, "TO_PROXY", 2, "TO_HOST", 3, "TO_STACK", 4, "TO_OVERLAY",
                5, "FROM_ENDPOINT", 6, "FROM_PROXY", 7, "FROM_HOST", 8, "FROM_STACK", 9, "FROM_OVERLAY",
                10, "FROM_NETWORK", 11, "TO_NETWORK", 12, "FROM_CRYPTO", 13, "TO_CRYPTO", 101, "TO_ENDPOINT"));
        assertThat(values(NodeState.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "UNKNOWN_NODE_STATE", 1, "NODE_CONNECTED", 2, "NODE_UNAVAILABLE", 3, "NODE_GONE",
                4, "NODE_ERROR"));
        assertThat(values(ChangeNotificationType.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "UNKNOWN", 1, "PEER_ADDED", 2, "PEER_DELETED", 3, "PEER_UPDATED"));
        assertThat(values(dev.sieve.api.flow.IPVersion.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "IP_NOT_USED", 1, "IPv4", 2, "IPv6"));
        assertThat(values(dev.sieve.api.flow.LostEventSource.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "UNKNOWN_LOST_EVENT_SOURCE", 1, "PERF_EVENT_RING_BUFFER", 2, "OBSERVER_EVENTS_QUEUE",
                3, "HUBBLE_RING_BUFFER"));
    }

    @Test
    void everyDropReason() {
        Map<Integer, String> expected = ordered(
                0, "DROP_REASON_UNKNOWN", 130, "INVALID_SOURCE_MAC", 131, "INVALID_DESTINATION_MAC",
                132, "INVALID_SOURCE_IP", 133, "POLICY_DENIED", 134, "INVALID_PACKET_DROPPED",
                135, "CT_TRUNCATED_OR_INVALID_HEADER", 136, "CT_MISSING_TCP_ACK_FLAG",
                137, "CT_UNKNOWN_L4_PROTOCOL", 138, "CT_CANNOT_CREATE_ENTRY_FROM_PACKET",
                139, "UNSUPPORTED_L3_PROTOCOL", 140, "MISSED_TAIL_CALL", 141, "ERROR_WRITING_TO_PACKET",
                142, "UNKNOWN_L4_PROTOCOL", 143, "UNKNOWN_ICMPV4_CODE", 144, "UNKNOWN_ICMPV4_TYPE",
                145, "UNKNOWN_ICMPV6_CODE", 146, "UNKNOWN_ICMPV6_TYPE", 147, "ERROR_RETRIEVING_TUNNEL_KEY",
                148, "ERROR_RETRIEVING_TUNNEL_OPTIONS", 149, "INVALID_GENEVE_OPTION",
                150, "UNKNOWN_L3_TARGET_ADDRESS", 151, "STALE_OR_UNROUTABLE_IP",
                152, "NO_MATCHING_LOCAL_CONTAINER_FOUND", 153, "ERROR_WHILE_CORRECTING_L3_CHECKSUM",
                154, "ERROR_WHILE_CORRECTING_L4_CHECKSUM", 155, "CT_MAP_INSERTION_FAILED",
                156, "INVALID_IPV6_EXTENSION_HEADER", 157, "IP_FRAGMENTATION_NOT_SUPPORTED",
                158, "SERVICE_BACKEND_NOT_FOUND", 160, "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
                161, "FAILED_TO_INSERT_INTO_PROXYMAP", 162, "REACHED_EDT_RATE_LIMITING_DROP_HORIZON",
                163, "UNKNOWN_CONNECTION_TRACKING_STATE", 164, "LOCAL_HOST_IS_UNREACHABLE",
                165, "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION", 166, "UNSUPPORTED_L2_PROTOCOL",
                167, "NO_MAPPING_FOR_NAT_MASQUERADE", 168, "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE",
                169, "FIB_LOOKUP_FAILED", 170, "ENCAPSULATION_TRAFFIC_IS_PROHIBITED", 171, "INVALID_IDENTITY",
                172, "UNKNOWN_SENDER", 173, "NAT_NOT_NEEDED", 174, "IS_A_CLUSTERIP",
                175, "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", 176, "FORBIDDEN_ICMPV6_MESSAGE",
                177, "DENIED_BY_LB_SRC_RANGE_CHECK", 178, "SOCKET_LOOKUP_FAILED", 179, "SOCKET_ASSIGN_FAILED",
                180, "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL", 181, "POLICY_DENY", 182, "VLAN_FILTERED",
                183, "INVALID_VNI", 184, "INVALID_TC_BUFFER", 185, "NO_SID", 186, "MISSING_SRV6_STATE",
                187, "NAT46", 188, "NAT64", 189, "AUTH_REQUIRED", 190, "CT_NO_MAP_FOUND",
                191, "SNAT_NO_MAP_FOUND", 192, "INVALID_CLUSTER_ID", 193, "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP",
                194, "NO_EGRESS_GATEWAY", 195, "UNENCRYPTED_TRAFFIC", 196, "TTL_EXCEEDED", 197, "NO_NODE_ID",
                198, "DROP_RATE_LIMITED", 199, "IGMP_HANDLED", 200, "IGMP_SUBSCRIBED", 201, "MULTICAST_HANDLED",
                202, "DROP_HOST_NOT_READY", 203, "DROP_EP_NOT_READY", 204, "DROP_NO_EGRESS_IP",
                205, "DROP_PUNT_PROXY");
        assertThat(values(DropReason.getDescriptor())).containsExactlyEntriesOf(expected);
        assertThat(DropReason.POLICY_DENIED.getNumber()).isEqualTo(133);
        assertThat(DropReason.POLICY_DENY.getNumber()).isEqualTo(181);
        assertThat(DropReason.forNumber(159)).as("159 is unused upstream").isNull();
    }

    @Test
    void servicesAndMethods() {
        ServiceDescriptor observer = dev.sieve.api.observer.ObserverProto.getDescriptor().findServiceByName("Observer");
        assertThat(observer).isNotNull();
        assertThat(observer.getFullName()).isEqualTo("observer.Observer");
        assertThat(observer.getMethods()).extracting(MethodDescriptor::getName).containsExactly(
                "GetFlows", "GetAgentEvents", "GetDebugEvents", "GetNodes", "GetNamespaces", "ServerStatus");

        assertThat(ObserverGrpc.SERVICE_NAME).isEqualTo("observer.Observer");
        assertThat(ObserverGrpc.getGetFlowsMethod().getFullMethodName()).isEqualTo("observer.Observer/GetFlows");
        assertThat(ObserverGrpc.getGetFlowsMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
        assertThat(ObserverGrpc.getGetAgentEventsMethod().getFullMethodName())
                .isEqualTo("observer.Observer/GetAgentEvents");
        assertThat(ObserverGrpc.getGetAgentEventsMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
        assertThat(ObserverGrpc.getGetDebugEventsMethod().getFullMethodName())
                .isEqualTo("observer.Observer/GetDebugEvents");
        assertThat(ObserverGrpc.getGetDebugEventsMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);
        assertThat(ObserverGrpc.getGetNodesMethod().getFullMethodName()).isEqualTo("observer.Observer/GetNodes");
        assertThat(ObserverGrpc.getGetNodesMethod().getType()).isEqualTo(MethodType.UNARY);
        assertThat(ObserverGrpc.getGetNamespacesMethod().getFullMethodName())
                .isEqualTo("observer.Observer/GetNamespaces");
        assertThat(ObserverGrpc.getGetNamespacesMethod().getType()).isEqualTo(MethodType.UNARY);
        assertThat(ObserverGrpc.getServerStatusMethod().getFullMethodName())
                .isEqualTo("observer.Observer/ServerStatus");
        assertThat(ObserverGrpc.getServerStatusMethod().getType()).isEqualTo(MethodType.UNARY);

        assertThat(PeerGrpc.getNotifyMethod().getFullMethodName()).isEqualTo("peer.Peer/Notify");
        assertThat(PeerGrpc.getNotifyMethod().getType()).isEqualTo(MethodType.SERVER_STREAMING);

        assertThat(FlowIngestGrpc.getPushMethod().getFullMethodName()).isEqualTo("sieve.ingest.v1.FlowIngest/Push");
        assertThat(FlowIngestGrpc.getPushMethod().getType()).isEqualTo(MethodType.BIDI_STREAMING);
    }

    @Test
    void ingestContract() {
        Descriptor batch = FlowBatch.getDescriptor();
        field(batch, "node_name", 1, STRING);
        field(batch, "sequence", 2, UINT64);
        repeated(batch, "flows", 3, MESSAGE, "flow.Flow");
        field(batch, "first_flow_seq", 4, UINT64);
        field(batch, "epoch", 5, STRING);
        field(batch, "created", 6, MESSAGE, "google.protobuf.Timestamp");
        field(batch, "lost_flows", 7, UINT64);

        Descriptor ack = BatchAck.getDescriptor();
        field(ack, "sequence", 1, UINT64);
        field(ack, "status", 2, ENUM, "sieve.ingest.v1.BatchAck.Status");
        field(ack, "error", 3, STRING);
        field(ack, "epoch", 4, STRING);
        field(ack, "acked_through", 5, UINT64);
        assertThat(values(BatchAck.Status.getDescriptor())).containsExactlyEntriesOf(ordered(
                0, "STATUS_UNSPECIFIED", 1, "STATUS_STORED", 2, "STATUS_DUPLICATE", 3, "STATUS_RETRY",
                4, "STATUS_REJECTED"));
    }

    private static Map<Integer, String> ordered(Object... numberNamePairs) {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < numberNamePairs.length; i += 2) {
            m.put((Integer) numberNamePairs[i], (String) numberNamePairs[i + 1]);
        }
        // values() yields entries sorted by number; sort the expectation the same way.
        return new LinkedHashMap<>(new TreeMap<>(m));
    }
}
