package dev.sieve.flowfilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Verdict;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hubble CLI's translation of filter flags, case by case (cilium/cilium hubble/cmd/observe/flows_filter.go). */
class HubbleFlagsTest {

    private static HubbleFlags flags(String... nameValue) {
        List<Map.Entry<String, String>> l = new ArrayList<>();
        for (int i = 0; i < nameValue.length; i += 2) l.add(new SimpleEntry<>(nameValue[i], nameValue[i + 1]));
        return HubbleFlags.of(l);
    }

    @Test
    void eitherSideFlagsGiveTwoFiltersAndOtherFlagsGoIntoBoth() {
        HubbleFlags h = flags("pod", "shop/web", "verdict", "DROPPED");
        assertThat(h.whitelist()).containsExactly(
                FlowFilter.newBuilder().addSourcePod("shop/web").addVerdict(Verdict.DROPPED).build(),
                FlowFilter.newBuilder().addDestinationPod("shop/web").addVerdict(Verdict.DROPPED).build());
        assertThat(h.blacklist()).isEmpty();
    }

    @Test
    void namespacesAreAppliedToPodsAndServicesWhenTheFiltersAreRead() {
        assertThat(flags("namespace", "prod").whitelist()).containsExactly(
                FlowFilter.newBuilder().addSourcePod("prod/").build(), FlowFilter.newBuilder().addDestinationPod("prod/").build());
        assertThat(flags("namespace", "prod", "pod", "web").whitelist()).containsExactly(
                FlowFilter.newBuilder().addSourcePod("prod/web").build(), FlowFilter.newBuilder().addDestinationPod("prod/web").build());
        assertThat(flags("from-namespace", "dev", "to-namespace", "prod").whitelist()).containsExactly(
                FlowFilter.newBuilder().addSourcePod("dev/").addDestinationPod("prod/").build());
        assertThat(flags("to-namespace", "prod", "to-service", "db").whitelist()).containsExactly(
                FlowFilter.newBuilder().addDestinationService("prod/db").build());
        // all namespaces: no namespace restriction (hubble would send "/", which its server rejects)
        assertThat(flags("all-namespaces", null, "verdict", "DROPPED").whitelist()).containsExactly(
                FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build());
    }

    @Test
    void notSendsTheNextFlagToTheBlacklist() {
        HubbleFlags h = flags("verdict", "FORWARDED", "not", null, "protocol", "udp");
        assertThat(h.whitelist()).containsExactly(FlowFilter.newBuilder().addVerdict(Verdict.FORWARDED).build());
        assertThat(h.blacklist()).containsExactly(FlowFilter.newBuilder().addProtocol("udp").build());
        assertThatThrownBy(() -> flags("not", null, "not", null, "ipv4", null)).hasMessageContaining("consecutive --not");
        assertThatThrownBy(() -> flags("ipv4", null, "not", null)).hasMessageContaining("--not must be followed");
    }

    @Test
    void valuesAreParsedAsTheHubbleCliParsesThem() {
        FlowFilter f = flags("identity", "world", "type", "trace:to-endpoint", "ip-version", "v6", "tcp-flags", "syn,ACK",
                "http-header", "X-App:v1", "workload", "Deployment/web", "cluster", "east").whitelist().getFirst();
        assertThat(f.getSourceIdentityList()).containsExactly(2);
        assertThat(f.getEventType(0).getType()).isEqualTo(4);
        assertThat(f.getEventType(0).getMatchSubType()).isTrue();
        assertThat(f.getEventType(0).getSubType()).isZero();
        assertThat(f.getIpVersionList()).containsExactly(IPVersion.IPv6);
        assertThat(f.getTcpFlags(0).getSYN() && f.getTcpFlags(0).getACK()).isTrue();
        assertThat(f.getHttpHeader(0).getKey()).isEqualTo("X-App");
        assertThat(f.getHttpHeader(0).getValue()).isEqualTo("v1");
        assertThat(f.getSourceWorkload(0).getKind()).isEqualTo("Deployment");
        assertThat(f.getSourceClusterNameList()).containsExactly("east");
        assertThat(flags("type", "agent:policy-updated").whitelist().getFirst().getEventType(0).getSubType()).isEqualTo(3);
        assertThat(flags("type", "130:7").whitelist().getFirst().getEventType(0).getSubType()).isEqualTo(7);
    }

    @Test
    void flagsThatCannotBeCombinedAreRejected() {
        assertThatThrownBy(() -> flags("from-pod", "a/b", "namespace", "a")).hasMessageContaining("cannot be combined");
        assertThatThrownBy(() -> flags("from-ip", "1.2.3.4", "from-fqdn", "x.com")).hasMessageContaining("cannot be combined");
        assertThatThrownBy(() -> flags("label", "a", "to-label", "b")).hasMessageContaining("cannot be combined");
        assertThatThrownBy(() -> flags("to-namespace", "prod", "to-pod", "dev/db")).hasMessageContaining("namespace conflict");
        assertThatThrownBy(() -> flags("verdict", "SOMETIMES")).hasMessageContaining("verdict");
        assertThatThrownBy(() -> flags("identity", "nobody")).hasMessageContaining("security identity");
        // a group of one may repeat
        assertThat(flags("verdict", "DROPPED", "verdict", "AUDIT").whitelist().getFirst().getVerdictCount()).isEqualTo(2);
    }
}
