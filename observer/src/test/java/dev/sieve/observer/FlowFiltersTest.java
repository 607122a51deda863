package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.flowfilter.FlowFilters;
import dev.sieve.flowfilter.InvalidFilterException;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class FlowFiltersTest {

    static final FlowEnricher EN = Fixtures.enricher();
    static final Flow ALLOWED = EN.enrich(Fixtures.allowedSyn(Fixtures.T0));      // shop/frontend -> shop/backend:8080 TCP ingress
    static final Flow DENIED = EN.enrich(Fixtures.deniedSyn(Fixtures.T0));        // shop/backend -> production/database:5432 egress, POLICY_DENY
    static final Flow UDP_DROP = EN.enrich(Fixtures.droppedUdp(Fixtures.T0));     // shop/frontend -> 8.8.8.8:53 UDP, POLICY_DENIED
    static final Flow REPLY = EN.enrich(Fixtures.replySynAck(Fixtures.T0));       // backend -> frontend reply
    static final Flow PING6 = EN.enrich(Fixtures.ping6(Fixtures.T0));
    static final Flow HTTP_FLOW = ALLOWED.toBuilder().setL7(Layer7.newBuilder().setHttp(
            HTTP.newBuilder().setCode(404).setMethod("GET").setUrl("http://backend:8080/api/v1/items?x=1"))).build();
    static final Flow DNS_NAMES = UDP_DROP.toBuilder().addDestinationNames("dns.google").build();

    static FlowFilter ff(UnaryOperator<FlowFilter.Builder> b) {
        return b.apply(FlowFilter.newBuilder()).build();
    }

    static Arguments row(String name, FlowFilter f, Flow flow, boolean expected) {
        return Arguments.of(name, f, flow, expected);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                row("verdict match", ff(b -> b.addVerdict(Verdict.DROPPED)), DENIED, true),
                row("verdict miss", ff(b -> b.addVerdict(Verdict.DROPPED)), ALLOWED, false),
                row("verdict OR", ff(b -> b.addVerdict(Verdict.DROPPED).addVerdict(Verdict.FORWARDED)), ALLOWED, true),
                row("drop reason", ff(b -> b.addDropReasonDesc(DropReason.POLICY_DENY)), DENIED, true),
                row("drop reason miss", ff(b -> b.addDropReasonDesc(DropReason.POLICY_DENY)), UDP_DROP, false),
                row("source pod ns/", ff(b -> b.addSourcePod("shop/")), ALLOWED, true),
                row("source pod ns/prefix", ff(b -> b.addSourcePod("shop/front")), ALLOWED, true),
                row("source pod wrong ns", ff(b -> b.addSourcePod("production/front")), ALLOWED, false),
                // Hubble: a pod without a namespace is a pod of the "default" namespace
                row("source pod without namespace is in default", ff(b -> b.addSourcePod("frontend")), ALLOWED, false),
                row("source pod in its namespace", ff(b -> b.addSourcePod("shop/front")), ALLOWED, true),
                row("destination pod", ff(b -> b.addDestinationPod("production/database-0")), DENIED, true),
                row("destination pod miss", ff(b -> b.addDestinationPod("production/")), ALLOWED, false),
                row("source label k8s:", ff(b -> b.addSourceLabel("k8s:app=frontend")), ALLOWED, true),
                row("source label any source", ff(b -> b.addSourceLabel("app=frontend")), ALLOWED, true),
                row("source label in", ff(b -> b.addSourceLabel("app in (frontend, backend)")), DENIED, true),
                row("source label notin", ff(b -> b.addSourceLabel("app notin (frontend)")), ALLOWED, false),
                row("source label AND requirements", ff(b -> b.addSourceLabel("app=frontend,tier=api")), ALLOWED, false),
                row("source label exists", ff(b -> b.addSourceLabel("tier")), ALLOWED, true),
                row("source label not exists", ff(b -> b.addSourceLabel("!tier")), ALLOWED, false),
                row("source label !=", ff(b -> b.addSourceLabel("app!=backend")), ALLOWED, true),
                row("destination label reserved", ff(b -> b.addDestinationLabel("reserved:world")), UDP_DROP, true),
                row("wrong label source", ff(b -> b.addDestinationLabel("k8s:world")), UDP_DROP, false),
                row("source ip exact", ff(b -> b.addSourceIp("10.0.1.10")), ALLOWED, true),
                row("source ip cidr", ff(b -> b.addSourceIp("10.0.0.0/16")), ALLOWED, true),
                row("destination ip cidr miss", ff(b -> b.addDestinationIp("10.0.2.0/24")), ALLOWED, false),
                row("destination ip v6 cidr", ff(b -> b.addDestinationIp("fd00::/64")), PING6, true),
                row("destination ip v6 exact long form", ff(b -> b.addDestinationIp("fd00:0:0:0:0:0:0:20")), PING6, true),
                row("destination port", ff(b -> b.addDestinationPort("8080")), ALLOWED, true),
                row("source port miss", ff(b -> b.addSourcePort("8080")), ALLOWED, false),
                row("port on icmp", ff(b -> b.addDestinationPort("5")), PING6, false),
                row("protocol tcp", ff(b -> b.addProtocol("TCP")), ALLOWED, true),
                row("protocol udp miss", ff(b -> b.addProtocol("udp")), ALLOWED, false),
                row("protocol icmp covers v6", ff(b -> b.addProtocol("icmp")), PING6, true),
                row("protocol http", ff(b -> b.addProtocol("http")), HTTP_FLOW, true),
                row("identity", ff(b -> b.addSourceIdentity(Fixtures.FRONTEND)), ALLOWED, true),
                row("destination identity miss", ff(b -> b.addDestinationIdentity(Fixtures.FRONTEND)), ALLOWED, false),
                row("traffic direction", ff(b -> b.addTrafficDirection(TrafficDirection.EGRESS)), DENIED, true),
                row("event type drop", ff(b -> b.addEventType(EventTypeFilter.newBuilder().setType(1))), DENIED, true),
                row("event type sub type", ff(b -> b.addEventType(EventTypeFilter.newBuilder().setType(1).setMatchSubType(true).setSubType(133))), DENIED, false),
                row("event type policy verdict", ff(b -> b.addEventType(EventTypeFilter.newBuilder().setType(5))), ALLOWED, true),
                row("node name exact", ff(b -> b.addNodeName("node-1")), ALLOWED, true),
                row("node name wildcard", ff(b -> b.addNodeName("node-*")), ALLOWED, true),
                row("node name cluster wildcard", ff(b -> b.addNodeName("*/node-1")), ALLOWED, true),
                row("node name miss", ff(b -> b.addNodeName("node-2")), ALLOWED, false),
                row("reply", ff(b -> b.addReply(true)), REPLY, true),
                row("reply miss", ff(b -> b.addReply(true)), ALLOWED, false),
                row("http status", ff(b -> b.addHttpStatusCode("404")), HTTP_FLOW, true),
                row("http status class", ff(b -> b.addHttpStatusCode("4+")), HTTP_FLOW, true),
                row("http status class miss", ff(b -> b.addHttpStatusCode("5+")), HTTP_FLOW, false),
                row("http status without l7", ff(b -> b.addHttpStatusCode("404")), ALLOWED, false),
                row("http method", ff(b -> b.addHttpMethod("get")), HTTP_FLOW, true),
                row("http path regex", ff(b -> b.addHttpPath("^/api/v[0-9]+/")), HTTP_FLOW, true),
                row("http path miss", ff(b -> b.addHttpPath("^/admin")), HTTP_FLOW, false),
                row("fqdn wildcard", ff(b -> b.addDestinationFqdn("*.google")), DNS_NAMES, true),
                row("fqdn exact miss", ff(b -> b.addDestinationFqdn("google.com")), DNS_NAMES, false),
                row("tcp flags", ff(b -> b.addTcpFlags(TCPFlags.newBuilder().setSYN(true))), REPLY, true),
                row("tcp flags miss", ff(b -> b.addTcpFlags(TCPFlags.newBuilder().setFIN(true))), REPLY, false),
                row("AND of fields", ff(b -> b.addVerdict(Verdict.DROPPED).addSourcePod("shop/backend")), DENIED, true),
                row("AND of fields miss", ff(b -> b.addVerdict(Verdict.DROPPED).addSourcePod("shop/frontend")), DENIED, false),
                row("empty filter", FlowFilter.getDefaultInstance(), ALLOWED, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void singleFilter(String name, FlowFilter filter, Flow flow, boolean expected) {
        assertThat(FlowFilters.compile(filter).test(flow)).as(name).isEqualTo(expected);
    }

    @Test
    void whitelistIsOrBlacklistExcludes() {
        FlowFilter dropped = ff(b -> b.addVerdict(Verdict.DROPPED));
        FlowFilter fromFrontend = ff(b -> b.addSourcePod("shop/frontend"));
        var wl = FlowFilters.compile(List.of(dropped, fromFrontend), List.of());
        assertThat(wl.test(ALLOWED)).isTrue();   // second whitelist filter
        assertThat(wl.test(DENIED)).isTrue();    // first
        assertThat(wl.test(REPLY)).isFalse();    // neither
        // like `--verdict DROPPED --not --namespace production`: whitelist and blacklist together
        var both = FlowFilters.compile(List.of(dropped), List.of(ff(b -> b.addDestinationPod("production/"))));
        assertThat(both.test(DENIED)).isFalse();
        assertThat(both.test(UDP_DROP)).isTrue();
        assertThat(both.test(ALLOWED)).isFalse();
        // blacklist only
        var bl = FlowFilters.compile(List.of(), List.of(dropped));
        assertThat(bl.test(ALLOWED)).isTrue();
        assertThat(bl.test(DENIED)).isFalse();
        assertThat(FlowFilters.compile(List.of(), List.of()).test(DENIED)).isTrue();
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                Arguments.of(ff(b -> b.addSourceIp("10.0.0.0/33")), "source_ip"),
                Arguments.of(ff(b -> b.addSourceIp("not-an-ip")), "source_ip"),
                Arguments.of(ff(b -> b.addDestinationIp("10.0.0/8")), "destination_ip"),
                Arguments.of(ff(b -> b.addSourceLabel("app in (a,b")), "source_label"),
                Arguments.of(ff(b -> b.addSourceLabel("app ~ x")), "source_label"),
                Arguments.of(ff(b -> b.addDestinationLabel("")), "destination_label"),
                Arguments.of(ff(b -> b.addDestinationPort("70000")), "destination_port"),
                Arguments.of(ff(b -> b.addSourcePort("http")), "source_port"),
                Arguments.of(ff(b -> b.addProtocol("quic")), "protocol"),
                Arguments.of(ff(b -> b.addHttpStatusCode("99")), "http_status_code"),
                Arguments.of(ff(b -> b.addHttpPath("(")), "http_path"),
                Arguments.of(ff(b -> b.addSourcePod("")), "source_pod"),
                Arguments.of(ff(b -> b.addSourcePod("/")), "source_pod"),
                Arguments.of(ff(b -> b.addNodeName("a/b/c")), "node_name"));
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void badValuesAreRejectedNamingTheField(FlowFilter filter, String field) {
        assertThatThrownBy(() -> FlowFilters.compile(filter)).isInstanceOf(InvalidFilterException.class).hasMessageContaining(field);
    }
}
