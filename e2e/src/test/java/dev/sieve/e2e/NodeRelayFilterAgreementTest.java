package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.FieldMask;
import dev.sieve.api.flow.CiliumEventType;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.ICMPv4;
import dev.sieve.api.flow.ICMPv6;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Service;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.flowfilter.HubbleFlags;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.server.ObserverService;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One filter, one answer: the same flows go into a node's flow buffer (queried through its Observer gRPC
 * service) and into the relay's memory and ClickHouse stores (queried as the relay's GetFlows does), and a
 * generated set of requests — every FlowFilter field, whitelist and blacklist, negation, combinations, and the
 * cases where node and relay used to disagree — must select the same flows, in the same order, from all three.
 */
class NodeRelayFilterAgreementTest {

    @RegisterExtension
    static final ClickHouseServer CH = new ClickHouseServer();

    private static final long START = 1_760_000_000_000_000_000L;
    private static List<Flow> flows;
    private static Server server;
    private static ManagedChannel channel;
    private static MemoryFlowStore memory;
    private static ClickHouseFlowStore clickhouse;

    @BeforeAll
    static void load() throws Exception {
        flows = corpus();
        FlowRing ring = new FlowRing(8192);
        for (Flow f : flows) ring.append(f);
        String name = "agreement-" + System.nanoTime();
        server = InProcessServerBuilder.forName(name).addService(new ObserverService(ring, "node-a", "test", "in-process")).build().start();
        channel = InProcessChannelBuilder.forName(name).build();

        memory = new MemoryFlowStore(16 * flows.size()); // room to spare: the ring frees whole chunks
        clickhouse = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(CH.url(), "agreement", "default", "", 30,
                Duration.ofMillis(10), 100_000));
        clickhouse.migrate();
        for (FlowStore s : List.of(memory, clickhouse)) s.append(new FlowStore.StreamKey("node-a", "e1"), 1, 1, flows);
    }

    @AfterAll
    static void close() throws Exception {
        if (channel != null) channel.shutdownNow();
        if (server != null) server.shutdownNow().awaitTermination();
        if (memory != null) memory.close();
        if (clickhouse != null) clickhouse.close();
    }

    /** TestFlows' mix plus flows that exercise the fields it lacks: ICMP, IPv6, L7, services, odd names. */
    static List<Flow> corpus() {
        TestFlows g = new TestFlows(42, "node-a", START);
        List<Flow> out = new ArrayList<>(g.next(3000));
        SplittableRandom rnd = new SplittableRandom(7);
        long t = g.timeNanos();
        for (int i = 0; i < 400; i++) {
            Flow base = out.get(rnd.nextInt(3000));
            Flow.Builder b = base.toBuilder().setUuid("extra-" + i).setTime(Timestamps.timestamp(t += 10_000));
            switch (i % 10) {
                case 0 -> b.setL4(Layer4.newBuilder().setICMPv4(ICMPv4.newBuilder().setType(8)));
                case 1 -> b.setL4(Layer4.newBuilder().setICMPv6(ICMPv6.newBuilder().setType(128)))
                        .setIP(IP.newBuilder().setSource("fd00::" + (1 + i % 7)).setDestination("fd00:0:0:1::" + (1 + i % 5)).setIpVersion(IPVersion.IPv6));
                case 2 -> b.setSource(base.getSource().toBuilder().setNamespace("default").setPodName("frontend-" + i % 3));
                case 3 -> b.setSource(base.getSource().toBuilder().addLabels("k8s:env=" + (i % 20 == 3 ? "production" : "staging")));
                case 4 -> b.setEventType(CiliumEventType.newBuilder().setType(129)).setL7(Layer7.newBuilder().setHttp(HTTP.newBuilder()
                        .setCode(i % 3 == 0 ? 404 : 201).setMethod((i / 10) % 2 == 0 ? "post" : "DELETE")
                        .setUrl(i % 4 == 0 ? "http://api/x/api/v1/users?id=" + i : "/api/submit").addHeaders(HTTPHeader.newBuilder().setKey("X-App").setValue("v" + (i / 10) % 2))));
                case 5 -> b.setDestinationService(Service.newBuilder().setNamespace("production").setName("backend-svc"))
                        .setSourceService(Service.newBuilder().setNamespace("default").setName("web"));
                case 6 -> b.setSource(dev.sieve.api.flow.Endpoint.newBuilder().setIdentity(2).addLabels("reserved:world"))
                        .setIP(base.getIP().toBuilder().setSource("203.0.113." + i % 9)).addDestinationNames(i % 20 == 6 ? "api.example.com" : "API.Example.com");
                case 7 -> b.setNodeName("kind-cluster/worker-" + i % 2).setEventType(CiliumEventType.newBuilder().setType(4).setSubType(i % 3));
                case 8 -> b.setL4(Layer4.newBuilder().setTCP(dev.sieve.api.flow.TCP.newBuilder().setSourcePort(5000).setDestinationPort(443)
                        .setFlags(TCPFlags.newBuilder().setRST(true)))).setVerdict(Verdict.DROPPED).setDropReasonDesc(DropReason.POLICY_DENY);
                default -> b.setEventType(CiliumEventType.newBuilder().setType(129)).setL7(Layer7.newBuilder().setDns(
                        dev.sieve.api.flow.DNS.newBuilder().setQuery("s3.eu-west-1.amazonaws.com.")));
            }
            out.add(b.build());
        }
        return out;
    }

    static FlowFilter ff(UnaryOperator<FlowFilter.Builder> b) {
        return b.apply(FlowFilter.newBuilder()).build();
    }

    /** Filters by name: one or more per FlowFilter field, and the cases that used to differ, by their issue's words. */
    static Map<String, FlowFilter> filters() {
        Map<String, FlowFilter> m = new LinkedHashMap<>();
        m.put("--protocol icmp is ICMPv4 and ICMPv6", ff(b -> b.addProtocol("icmp")));
        m.put("http_path is unanchored", ff(b -> b.addHttpPath("api/v1")));
        m.put("http_path anchored by the user", ff(b -> b.addHttpPath("^/api/submit$")));
        m.put("set-based label selector", ff(b -> b.addSourceLabel("env in (production)")));
        m.put("set-based label selector notin", ff(b -> b.addSourceLabel("env notin (production),k8s:app")));
        m.put("pod without namespace is in default", ff(b -> b.addSourcePod("frontend")));
        m.put("pod namespace only", ff(b -> b.addSourcePod("production/")));
        m.put("pod prefix", ff(b -> b.addDestinationPod("development/data")));
        m.put("verdict", ff(b -> b.addVerdict(Verdict.DROPPED).addVerdict(Verdict.AUDIT)));
        m.put("drop reason", ff(b -> b.addDropReasonDesc(DropReason.POLICY_DENY)));
        m.put("direction", ff(b -> b.addTrafficDirection(TrafficDirection.EGRESS)));
        m.put("protocol tcp udp", ff(b -> b.addProtocol("TCP").addProtocol("udp")));
        m.put("protocol icmpv6", ff(b -> b.addProtocol("icmpv6")));
        m.put("protocol l7", ff(b -> b.addProtocol("dns").addProtocol("http")));
        m.put("source ip", ff(b -> b.addSourceIp("10.0.1.7").addSourceIp("203.0.113.4")));
        m.put("source ip cidr", ff(b -> b.addSourceIp("10.0.2.0/24")));
        m.put("destination ipv6", ff(b -> b.addDestinationIp("fd00:0:0:1::2")));
        m.put("destination ipv6 other spelling", ff(b -> b.addDestinationIp("FD00:0000:0:1:0::2")));
        m.put("ports", ff(b -> b.addDestinationPort("5432").addSourcePort("40001")));
        m.put("source identity", ff(b -> b.addSourceIdentity(2)));
        m.put("destination identities", ff(b -> b.addDestinationIdentity(1000 + 10 * 10 + 7).addDestinationIdentity(1000 + 11 * 10 + 5)));
        m.put("node name", ff(b -> b.addNodeName("node-a")));
        m.put("node name in a cluster", ff(b -> b.addNodeName("kind-cluster/worker-1")));
        m.put("node name glob", ff(b -> b.addNodeName("kind-*/*-1")));
        m.put("node name cluster only", ff(b -> b.addNodeName("kind-cluster/")));
        m.put("node name default cluster", ff(b -> b.addNodeName("default/node-a")));
        m.put("labels", ff(b -> b.addDestinationLabel("k8s:app=database").addDestinationLabel("app=cache")));
        m.put("label exists and not", ff(b -> b.addSourceLabel("!reserved:world,k8s:app")));
        m.put("workloads", ff(b -> b.addSourceWorkload(Workload.newBuilder().setName("cache"))
                .addDestinationWorkload(Workload.newBuilder().setKind("Deployment").setName("backend"))));
        m.put("services", ff(b -> b.addDestinationService("production/backend")));
        m.put("service without namespace", ff(b -> b.addSourceService("web")));
        m.put("fqdn", ff(b -> b.addSourceFqdn("*.production.svc.cluster.local")));
        m.put("fqdn is case sensitive on the flow's name", ff(b -> b.addDestinationFqdn("api.example.com")));
        m.put("dns query", ff(b -> b.addDnsQuery("amazonaws\\.com\\.$")));
        m.put("http status", ff(b -> b.addHttpStatusCode("4+").addHttpStatusCode("201")));
        m.put("http status 50+", ff(b -> b.addHttpStatusCode("50+")));
        m.put("http method", ff(b -> b.addHttpMethod("POST")));
        m.put("http url", ff(b -> b.addHttpUrl("users\\?id=1")));
        m.put("http header", ff(b -> b.addHttpHeader(HTTPHeader.newBuilder().setKey("x-app").setValue("v1"))));
        m.put("http with l7 event type", ff(b -> b.addEventType(EventTypeFilter.newBuilder().setType(129)).addHttpMethod("delete")));
        m.put("reply", ff(b -> b.addReply(false)));
        m.put("tcp flags", ff(b -> b.addTcpFlags(TCPFlags.newBuilder().setSYN(true).setACK(true))));
        m.put("tcp flags rst", ff(b -> b.addTcpFlags(TCPFlags.newBuilder().setRST(true))));
        m.put("event type", ff(b -> b.addEventType(EventTypeFilter.newBuilder().setType(4).setMatchSubType(true).setSubType(1))));
        m.put("ip version", ff(b -> b.addIpVersion(IPVersion.IPv6)));
        m.put("uuid", ff(b -> b.addUuid("node-a-17").addUuid("extra-3")));
        m.put("combined", ff(b -> b.addVerdict(Verdict.DROPPED).addDestinationPod("production/").addDestinationPort("5432").addProtocol("tcp")));
        m.put("combined inexact", ff(b -> b.addVerdict(Verdict.FORWARDED).addSourceLabel("k8s:app=backend").addDestinationIp("10.1.0.0/16")));
        return m;
    }

    private static List<String> node(GetFlowsRequest req) {
        List<String> out = new ArrayList<>();
        Iterator<GetFlowsResponse> it = ObserverGrpc.newBlockingStub(channel).getFlows(req);
        while (it.hasNext()) {
            GetFlowsResponse r = it.next();
            if (r.hasFlow()) out.add(r.getFlow().getUuid());
        }
        return out;
    }

    private static List<String> relay(FlowStore store, GetFlowsRequest req) throws Exception {
        List<String> out = new ArrayList<>();
        store.query(FlowQuery.of(req), f -> out.add(f.getUuid()));
        return out;
    }

    private static void agree(String name, GetFlowsRequest req) throws Exception {
        List<String> want = node(req);
        assertThat(relay(memory, req)).as("memory store vs node: " + name).containsExactlyElementsOf(want);
        assertThat(relay(clickhouse, req)).as("ClickHouse store vs node: " + name).containsExactlyElementsOf(want);
    }

    @Test
    void everyFieldAsWhitelistAndAsBlacklistSelectsTheSameFlows() throws Exception {
        List<String> trivial = new ArrayList<>();
        for (var e : filters().entrySet()) {
            GetFlowsRequest white = GetFlowsRequest.newBuilder().addWhitelist(e.getValue()).build();
            List<String> hits = node(white);
            if (hits.isEmpty() || hits.size() == flows.size()) trivial.add(e.getKey() + " (" + hits.size() + ")");
            agree(e.getKey() + " (whitelist)", white);
            agree(e.getKey() + " (blacklist)", GetFlowsRequest.newBuilder().addBlacklist(e.getValue()).build());
        }
        // a filter that selects nothing or everything cannot show a disagreement: each must select some flows
        assertThat(trivial).as("filters that select nothing or everything").isEmpty();
    }

    @Test
    void theCasesThatUsedToDifferAreAnsweredAsHubbleDoes() throws Exception {
        // --protocol icmp: both ICMP versions (the relay used to answer ICMPv4 only)
        List<String> icmp = node(GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addProtocol("icmp"))).build());
        assertThat(icmp).anyMatch(u -> flowOf(u).getL4().hasICMPv4()).anyMatch(u -> flowOf(u).getL4().hasICMPv6());
        // http_path: unanchored, as Go's MatchString (the relay used to anchor it)
        assertThat(node(GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addHttpPath("api/v1"))).build()))
                .anyMatch(u -> flowOf(u).getL7().getHttp().getUrl().contains("/x/api/v1/"));
        // set-based selectors (the relay used to match nothing)
        assertThat(node(GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addSourceLabel("env in (production)"))).build()))
                .isNotEmpty().allMatch(u -> flowOf(u).getSource().getLabelsList().contains("k8s:env=production"));
        for (String name : List.of("--protocol icmp is ICMPv4 and ICMPv6", "http_path is unanchored", "set-based label selector")) {
            agree(name, GetFlowsRequest.newBuilder().addWhitelist(filters().get(name)).build());
        }
    }

    @Test
    void combinationsOfWhitelistsAndBlacklistsAgree() throws Exception {
        List<FlowFilter> all = new ArrayList<>(filters().values());
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 60; i++) {
            GetFlowsRequest.Builder req = GetFlowsRequest.newBuilder();
            for (int k = rnd.nextInt(3); k >= 0; k--) req.addWhitelist(all.get(rnd.nextInt(all.size())));
            for (int k = rnd.nextInt(3); k > 0; k--) req.addBlacklist(all.get(rnd.nextInt(all.size())));
            if (rnd.nextInt(3) == 0) {
                // one filter AND-ing two fields of different cases
                req.addWhitelist(all.get(rnd.nextInt(all.size())).toBuilder().mergeFrom(all.get(rnd.nextInt(all.size()))).build());
            }
            agree("combination " + i + " " + req, req.build());
        }
    }

    @Test
    void hubbleFlagsTranslateOnceForEveryone() throws Exception {
        // what `hubble observe` / `sieve observe` / the REST parameters send, --not included
        List<List<Map.Entry<String, String>>> commandLines = List.of(
                List.of(Map.entry("namespace", "production"), Map.entry("verdict", "DROPPED")),
                List.of(Map.entry("from-namespace", "development"), Map.entry("to-namespace", "production")),
                List.of(Map.entry("pod", "production/backend"), Map.entry("not", ""), Map.entry("protocol", "udp")),
                List.of(Map.entry("label", "env in (production)")),
                List.of(Map.entry("ip", "10.1.0.0/16"), Map.entry("to-port", "443")),
                List.of(Map.entry("namespace", "default"), Map.entry("pod", "frontend")),
                List.of(Map.entry("identity", "world")),
                List.of(Map.entry("to-workload", "Deployment/backend"), Map.entry("ipv4", "")),
                List.of(Map.entry("not", ""), Map.entry("verdict", "FORWARDED"), Map.entry("not", ""), Map.entry("type", "l7")));
        for (List<Map.Entry<String, String>> cl : commandLines) {
            List<Map.Entry<String, String>> flags = cl.stream()
                    .map(e -> e.getKey().equals("not") || HubbleFlags.SWITCH_FLAGS.contains(e.getKey())
                            ? new java.util.AbstractMap.SimpleEntry<String, String>(e.getKey(), null) : e).toList();
            HubbleFlags h = HubbleFlags.of(flags);
            agree(cl.toString(), GetFlowsRequest.newBuilder().addAllWhitelist(h.whitelist()).addAllBlacklist(h.blacklist()).build());
        }
    }

    @Test
    void requestsAreValidatedOnceWithHubblesRules() throws Exception {
        // the stock hubble CLI's default field mask (v1.19) is accepted by both, and shapes the flows alike
        FieldMask hubbleDefault = FieldMask.newBuilder().addAllPaths(List.of("time", "verdict", "ethernet", "IP", "l4", "source.identity",
                "source.namespace", "source.pod_name", "destination.identity", "destination.namespace", "destination.pod_name", "Type",
                "node_name", "l7", "event_type", "source_service", "destination_service", "is_reply", "Summary", "ip_trace_id")).build();
        GetFlowsRequest masked = GetFlowsRequest.newBuilder().setNumber(5).setFieldMask(hubbleDefault).build();
        Iterator<GetFlowsResponse> it = ObserverGrpc.newBlockingStub(channel).getFlows(masked);
        assertThat(it.next().getFlow().getSource().getLabelsCount()).isZero(); // not in the mask
        assertThat(FlowQuery.of(masked).number()).isEqualTo(5);

        List<GetFlowsRequest> invalid = List.of(
                GetFlowsRequest.newBuilder().setFirst(true).setFollow(true).setNumber(3).build(),
                GetFlowsRequest.newBuilder().setFieldMask(FieldMask.newBuilder().addPaths("no_such_field")).build(),
                GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addSourceIp("10.0.0.0/33"))).build(),
                GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addHttpPath("(").addEventType(EventTypeFilter.newBuilder().setType(129)))).build(),
                GetFlowsRequest.newBuilder().addWhitelist(ff(b -> b.addHttpMethod("GET").addEventType(EventTypeFilter.newBuilder().setType(1)))).build(),
                GetFlowsRequest.newBuilder().addBlacklist(ff(b -> b.addSourcePod("/"))).build(),
                GetFlowsRequest.newBuilder().setSince(Timestamps.timestamp(START + 10)).setUntil(Timestamps.timestamp(START)).build());
        for (GetFlowsRequest req : invalid) {
            assertThatThrownBy(() -> node(req)).as("node: " + req).isInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("INVALID_ARGUMENT");
            assertThatThrownBy(() -> FlowQuery.of(req)).as("relay: " + req).isInstanceOf(InvalidQueryException.class);
        }
    }

    private static Flow flowOf(String uuid) {
        return flows.stream().filter(f -> f.getUuid().equals(uuid)).findFirst().orElseThrow();
    }
}
