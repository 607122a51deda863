package dev.sieve.relay.support;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import java.util.LinkedHashMap;
import java.util.Map;

/** One filter per supported FlowFilter field (and a few combinations), for store-vs-matcher equivalence tests. */
public final class FilterCases {
    public static Map<String, FlowFilter> all() {
        Map<String, FlowFilter> m = new LinkedHashMap<>();
        m.put("verdict", FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build());
        m.put("verdict-2", FlowFilter.newBuilder().addVerdict(Verdict.AUDIT).addVerdict(Verdict.REDIRECTED).build());
        m.put("drop_reason_desc", FlowFilter.newBuilder().addDropReasonDesc(DropReason.CT_MAP_INSERTION_FAILED).build());
        m.put("traffic_direction", FlowFilter.newBuilder().addTrafficDirection(TrafficDirection.EGRESS).build());
        m.put("source_pod-ns", FlowFilter.newBuilder().addSourcePod("production/").build());
        m.put("source_pod-prefix", FlowFilter.newBuilder().addSourcePod("production/backend").build());
        m.put("destination_pod", FlowFilter.newBuilder().addDestinationPod("kube-system/dns-7d9f8-1").addDestinationPod("monitoring/").build());
        m.put("source_ip", FlowFilter.newBuilder().addSourceIp("10.0.1.7").build());
        m.put("source_ip-cidr", FlowFilter.newBuilder().addSourceIp("10.0.2.0/24").build());
        m.put("destination_ip", FlowFilter.newBuilder().addDestinationIp("10.1.3.3").addDestinationIp("10.1.0.1").build());
        m.put("protocol", FlowFilter.newBuilder().addProtocol("UDP").build());
        m.put("protocol-l7", FlowFilter.newBuilder().addProtocol("http").build());
        m.put("source_port", FlowFilter.newBuilder().addSourcePort("40000").addSourcePort("40001").build());
        m.put("destination_port", FlowFilter.newBuilder().addDestinationPort("5432").build());
        m.put("source_identity", FlowFilter.newBuilder().addSourceIdentity(1000 + 10 * 10 + 8).build());
        m.put("destination_identity", FlowFilter.newBuilder().addDestinationIdentity(1000 + 11 * 10 + 3).build());
        m.put("node_name", FlowFilter.newBuilder().addNodeName("node-b").build());
        m.put("node_name-glob", FlowFilter.newBuilder().addNodeName("node-*").build());
        m.put("source_label", FlowFilter.newBuilder().addSourceLabel("k8s:app=frontend").build());
        m.put("destination_label", FlowFilter.newBuilder().addDestinationLabel("app=database").build());
        m.put("source_workload", FlowFilter.newBuilder().addSourceWorkload(Workload.newBuilder().setName("cache")).build());
        m.put("destination_workload", FlowFilter.newBuilder().addDestinationWorkload(Workload.newBuilder().setKind("Deployment").setName("backend")).build());
        m.put("source_fqdn", FlowFilter.newBuilder().addSourceFqdn("*.production.svc.cluster.local").build());
        m.put("dns_query", FlowFilter.newBuilder().addDnsQuery("database\\.").build());
        m.put("http_status_code", FlowFilter.newBuilder().addHttpStatusCode("5+").build());
        m.put("http_method", FlowFilter.newBuilder().addHttpMethod("get").build());
        m.put("http_path", FlowFilter.newBuilder().addHttpPath("/api/v1/.*").build());
        m.put("reply", FlowFilter.newBuilder().addReply(true).build());
        m.put("tcp_flags", FlowFilter.newBuilder().addTcpFlags(TCPFlags.newBuilder().setSYN(true)).build());
        m.put("uuid", FlowFilter.newBuilder().addUuid("node-a-17").addUuid("node-b-3").build());
        m.put("combined", FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).addDestinationPod("production/").addDestinationPort("5432").addProtocol("tcp").build());
        m.put("combined-inexact", FlowFilter.newBuilder().addVerdict(Verdict.FORWARDED).addSourceLabel("k8s:app=backend").addHttpStatusCode("200").build());
        return m;
    }
}
