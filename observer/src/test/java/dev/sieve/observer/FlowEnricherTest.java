package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.TraceObservationPoint;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import org.junit.jupiter.api.Test;

class FlowEnricherTest {

    @org.junit.jupiter.api.Test
    void namesTheSourceLearnedForTheDestinationAreDestinationNames() {
        var en = Fixtures.enricher();
        en.setNameResolver((endpoint, address) -> java.util.Arrays.equals(endpoint, Fixtures.ip("10.0.1.10"))
                && java.util.Arrays.equals(address, Fixtures.ip("10.0.1.20")) ? java.util.List.of("api.example.com") : java.util.List.of());
        var f = en.enrich(Fixtures.allowedSyn(Fixtures.T0));
        org.assertj.core.api.Assertions.assertThat(f.getDestinationNamesList()).containsExactly("api.example.com");
        org.assertj.core.api.Assertions.assertThat(f.getSourceNamesList()).isEmpty();
    }


    @Test
    @SuppressWarnings("deprecation")
    void allowedTcpSynIsAPolicyVerdictWithTheAllowingPolicy() {
        Flow f = Fixtures.enricher().enrich(Fixtures.allowedSyn(Fixtures.T0 + 123_456_789));
        assertThat(f.getTime().getSeconds()).isEqualTo(1_700_000_000L);
        assertThat(f.getTime().getNanos()).isEqualTo(123_456_789);
        assertThat(f.getVerdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(f.getType()).isEqualTo(FlowType.L3_L4);
        assertThat(f.getNodeName()).isEqualTo("node-1");
        assertThat(f.getUuid()).hasSize(36);
        assertThat(f.getEventType().getType()).isEqualTo(5);
        assertThat(f.getPolicyMatchType()).isEqualTo(2);
        assertThat(f.getTrafficDirection()).isEqualTo(TrafficDirection.INGRESS);
        assertThat(f.getIsReply().getValue()).isFalse();
        assertThat(f.hasIsReply()).isTrue();
        assertThat(f.getIP().getSource()).isEqualTo("10.0.1.10");
        assertThat(f.getIP().getDestination()).isEqualTo("10.0.1.20");
        assertThat(f.getIP().getIpVersion()).isEqualTo(IPVersion.IPv4);
        assertThat(f.getL4().getTCP().getSourcePort()).isEqualTo(40000);
        assertThat(f.getL4().getTCP().getDestinationPort()).isEqualTo(8080);
        assertThat(f.getL4().getTCP().getFlags().getSYN()).isTrue();
        assertThat(f.getL4().getTCP().getFlags().getACK()).isFalse();
        assertThat(f.getSummary()).isEqualTo("TCP Flags: SYN");
        assertThat(f.getSource().getIdentity()).isEqualTo(Fixtures.FRONTEND);
        assertThat(f.getSource().getNamespace()).isEqualTo("shop");
        assertThat(f.getSource().getPodName()).isEqualTo("frontend-7d4b9c8f6d-x2x9k");
        assertThat(f.getSource().getLabelsList()).containsExactly("k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop", "k8s:tier=web");
        assertThat(f.getSource().getWorkloads(0).getName()).isEqualTo("frontend");
        assertThat(f.getSource().getWorkloads(0).getKind()).isEqualTo("Deployment");
        assertThat(f.getSource().getID()).isZero();
        assertThat(f.getDestination().getID()).isEqualTo(42); // the local endpoint is the ingress side
        assertThat(f.getDestination().getPodName()).isEqualTo("backend-0");
        assertThat(f.getIngressAllowedByList()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("allow-frontend-to-backend");
            assertThat(p.getNamespace()).isEqualTo("shop");
            assertThat(p.getKind()).isEqualTo("CiliumNetworkPolicy");
            assertThat(p.getRevision()).isEqualTo(3);
            assertThat(p.getLabelsList()).contains("k8s:io.cilium.k8s.policy.name=allow-frontend-to-backend");
        });
        assertThat(f.getEgressAllowedByList()).isEmpty();
        assertThat(f.getIngressDeniedByList()).isEmpty();
        assertThat(f.getInterface().getIndex()).isEqualTo(7);
    }

    @Test
    void policyDenyDropIsADropEventNamingTheDenyingPolicy() {
        Flow f = Fixtures.enricher().enrich(Fixtures.deniedSyn(Fixtures.T0));
        assertThat(f.getVerdict()).isEqualTo(Verdict.DROPPED);
        assertThat(f.getDropReasonDesc()).isEqualTo(DropReason.POLICY_DENY);
        assertThat(f.getEventType().getType()).isEqualTo(1);
        assertThat(f.getEventType().getSubType()).isEqualTo(181);
        assertThat(f.getTrafficDirection()).isEqualTo(TrafficDirection.EGRESS);
        assertThat(f.getEgressDeniedByList()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("deny-dev-to-db");
            assertThat(p.getNamespace()).isEmpty();
            assertThat(p.getKind()).isEqualTo("CiliumClusterwideNetworkPolicy");
        });
        assertThat(f.getIngressDeniedByList()).isEmpty();
        assertThat(f.getSource().getID()).isEqualTo(42);
        assertThat(f.getDestination().getNamespace()).isEqualTo("production");
    }

    @Test
    void defaultDenyUdpDropToWorldHasNoPolicyAndReservedLabels() {
        Flow f = Fixtures.enricher().enrich(Fixtures.droppedUdp(Fixtures.T0));
        assertThat(f.getDropReasonDesc()).isEqualTo(DropReason.POLICY_DENIED);
        assertThat(f.getEventType().getSubType()).isEqualTo(133);
        assertThat(f.getL4().getUDP().getDestinationPort()).isEqualTo(53);
        assertThat(f.getSummary()).isEqualTo("UDP");
        assertThat(f.getDestination().getLabelsList()).containsExactly("reserved:world");
        assertThat(f.getDestination().getPodName()).isEmpty();
        assertThat(f.getDestination().getNamespace()).isEmpty();
        assertThat(f.getEgressDeniedByList()).isEmpty();
    }

    @Test
    void establishedReplyIsATraceEventWithReplySet() {
        Flow f = Fixtures.enricher().enrich(Fixtures.replySynAck(Fixtures.T0));
        assertThat(f.getIsReply().getValue()).isTrue();
        assertThat(f.getEventType().getType()).isEqualTo(4);
        assertThat(f.getEventType().getSubType()).isZero();
        assertThat(f.getTraceObservationPoint()).isEqualTo(TraceObservationPoint.TO_ENDPOINT);
        assertThat(f.getSummary()).isEqualTo("TCP Flags: SYN, ACK");
        assertThat(f.getL4().getTCP().getFlags().getACK()).isTrue();
    }

    @Test
    void icmpv6EchoOverIpv6() {
        Flow f = Fixtures.enricher().enrich(Fixtures.ping6(Fixtures.T0));
        assertThat(f.getIP().getIpVersion()).isEqualTo(IPVersion.IPv6);
        assertThat(f.getIP().getSource()).isEqualTo("fd00::10");
        assertThat(f.getL4().getICMPv6().getType()).isEqualTo(128);
        assertThat(f.getSummary()).isEqualTo("ICMPv6 EchoRequest");
        assertThat(f.getSource().getPodName()).isEqualTo("frontend-v6");
        assertThat(f.getEgressAllowedByList()).hasSize(1);
    }

    @Test
    void icmpv4AndSctpAndAudit() {
        FlowEnricher en = Fixtures.enricher();
        Flow icmp = en.enrich(Fixtures.ping4(Fixtures.T0));
        assertThat(icmp.getL4().getICMPv4().getType()).isEqualTo(8);
        assertThat(icmp.getSummary()).isEqualTo("ICMPv4 EchoRequest");
        assertThat(icmp.getPolicyMatchType()).isZero();
        Flow sctp = en.enrich(Fixtures.sctpAudit(Fixtures.T0));
        assertThat(sctp.getL4().getSCTP().getDestinationPort()).isEqualTo(3868);
        assertThat(sctp.getVerdict()).isEqualTo(Verdict.AUDIT);
        assertThat(sctp.getSummary()).isEqualTo("SCTP");
    }

    @Test
    void cachedEndpointsAreRefreshedWhenTheResolverChanges() {
        StaticResolver r = Fixtures.resolver();
        FlowEnricher en = new FlowEnricher(r, "node-1", ts -> ts);
        Flow a = en.enrich(Fixtures.allowedSyn(Fixtures.T0));
        Flow b = en.enrich(Fixtures.allowedSyn(Fixtures.T0 + 1));
        assertThat(b.getSource()).isSameAs(a.getSource()); // cached per identity + address
        r.identity(Fixtures.FRONTEND, "k8s:app=frontend-v2");
        Flow c = en.enrich(Fixtures.allowedSyn(Fixtures.T0 + 2));
        assertThat(c.getSource().getLabelsList()).containsExactly("k8s:app=frontend-v2");
        assertThat(c.getUuid()).isNotEqualTo(b.getUuid());
    }
}
