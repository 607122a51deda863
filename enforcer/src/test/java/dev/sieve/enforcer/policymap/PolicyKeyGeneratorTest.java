package dev.sieve.enforcer.policymap;

import static dev.sieve.enforcer.maps.Direction.EGRESS;
import static dev.sieve.enforcer.maps.Direction.INGRESS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The generated LPM keys, looked up the way the datapath does (longest prefix for the peer's
 * identity and for identity 0, then combined), must decide exactly like {@link PolicyEvaluator}.
 */
class PolicyKeyGeneratorTest {
    private static final int EP = 7;

    /** Java model of the BPF lookup: two longest-prefix matches, combined. */
    static PolicyValue lookup(Map<PolicyKey, PolicyValue> keys, Direction d, int peer, int proto, int port) {
        PolicyValue specific = longest(keys, d, peer, proto, port);
        PolicyValue any = peer == 0 ? null : longest(keys, d, 0, proto, port);
        return PolicyDecision.better(specific, any);
    }

    private static PolicyValue longest(Map<PolicyKey, PolicyValue> keys, Direction d, int identity, int proto, int port) {
        PolicyValue best = null;
        int bestLen = -1;
        for (var e : keys.entrySet()) {
            PolicyKey k = e.getKey();
            if (k.endpointId() != EP || k.identity() != identity || k.direction() != d) {
                continue;
            }
            int len = k.prefixLen();
            boolean match = len == 0
                    || (k.protocol() == proto && port >= k.portLow() && port <= k.portHigh());
            if (match && len > bestLen) {
                best = e.getValue();
                bestLen = len;
            }
        }
        return best;
    }

    private static void assertSameAsEvaluator(List<PolicyMapEntry> entries, int[] peers, int[] protos, int[] ports) {
        Map<PolicyKey, PolicyValue> keys = PolicyKeyGenerator.generate(EP, entries);
        for (Direction d : Direction.values()) {
            for (int peer : peers) {
                for (int proto : protos) {
                    for (int port : ports) {
                        assertThat(lookup(keys, d, peer, proto, port))
                                .as("%s peer %d proto %d port %d for %s", d, peer, proto, port, entries)
                                .isEqualTo(PolicyEvaluator.decide(entries, d, peer, proto, port));
                    }
                }
            }
        }
    }

    @Test
    void singlePortAllow() {
        var keys = PolicyKeyGenerator.generate(EP, List.of(PolicyMapEntry.allow(INGRESS, 100, 6, 8080, 8080, 1)));
        assertThat(keys).containsExactly(Map.entry(new PolicyKey(EP, 100, INGRESS, 6, 8080, 24), new PolicyValue(Action.ALLOW, 1, 0)));
    }

    @Test
    void rangeSplitsIntoAlignedBlocks() {
        var keys = PolicyKeyGenerator.generate(EP, List.of(PolicyMapEntry.allow(EGRESS, 0, 17, 1000, 1999, 3)));
        int covered = 0;
        for (PolicyKey k : keys.keySet()) {
            assertThat(k.portLow() % (k.portHigh() - k.portLow() + 1)).isZero();
            covered += k.portHigh() - k.portLow() + 1;
        }
        assertThat(covered).isEqualTo(1000);
        assertThat(keys.size()).isLessThanOrEqualTo(2 * 16);
    }

    @Test
    void denyInsideAllowRangeWins() {
        List<PolicyMapEntry> entries = List.of(
                PolicyMapEntry.allow(INGRESS, 0, 6, 8000, 8999, 1),
                PolicyMapEntry.deny(INGRESS, 100, 6, 8080, 8080, 2));
        Map<PolicyKey, PolicyValue> keys = PolicyKeyGenerator.generate(EP, entries);
        assertThat(lookup(keys, INGRESS, 100, 6, 8080).action()).isEqualTo(Action.DENY);
        assertThat(lookup(keys, INGRESS, 100, 6, 8081).action()).isEqualTo(Action.ALLOW);
        assertThat(lookup(keys, INGRESS, 101, 6, 8080).action()).isEqualTo(Action.ALLOW);
        assertSameAsEvaluator(entries, new int[] {100, 101}, new int[] {6, 17}, new int[] {0, 7999, 8000, 8079, 8080, 8081, 8999, 9000});
    }

    @Test
    void anyProtocolDenyBeatsSpecificAllow() {
        List<PolicyMapEntry> entries = List.of(
                PolicyMapEntry.allow(EGRESS, 100, 6, 443, 443, 1),
                PolicyMapEntry.deny(EGRESS, 0, 0, 0, 65535, 9));
        assertSameAsEvaluator(entries, new int[] {100, 5}, new int[] {6, 17, 1, 47}, new int[] {0, 443, 444});
        Map<PolicyKey, PolicyValue> keys = PolicyKeyGenerator.generate(EP, entries);
        assertThat(lookup(keys, EGRESS, 100, 6, 443)).isEqualTo(new PolicyValue(Action.DENY, 9, 0));
    }

    @Test
    void allowBeatsRedirectAndLowestRuleNamesTheVerdict() {
        List<PolicyMapEntry> entries = List.of(
                PolicyMapEntry.redirect(INGRESS, 0, 6, 80, 80, 15001, 4),
                PolicyMapEntry.allow(INGRESS, 100, 6, 0, 65535, 8),
                PolicyMapEntry.allow(INGRESS, 100, 0, 0, 65535, 6));
        assertSameAsEvaluator(entries, new int[] {100, 200}, new int[] {6, 17}, new int[] {79, 80, 81});
        Map<PolicyKey, PolicyValue> keys = PolicyKeyGenerator.generate(EP, entries);
        assertThat(lookup(keys, INGRESS, 200, 6, 80)).isEqualTo(new PolicyValue(Action.REDIRECT, 4, 15001));
        assertThat(lookup(keys, INGRESS, 100, 6, 80)).isEqualTo(new PolicyValue(Action.ALLOW, 6, 0));
    }

    @Test
    void randomPoliciesMatchTheReferenceSemantics() {
        Random r = new Random(42);
        int[] protos = {0, 6, 17, 132, 1, 58};
        int[] interesting = {0, 1, 7, 8, 79, 80, 81, 443, 1023, 1024, 5000, 8080, 32768, 65534, 65535};
        for (int round = 0; round < 300; round++) {
            List<PolicyMapEntry> entries = new ArrayList<>();
            int n = 1 + r.nextInt(6);
            for (int i = 0; i < n; i++) {
                Direction d = r.nextBoolean() ? INGRESS : EGRESS;
                int peer = r.nextInt(3) == 0 ? 0 : 100 + r.nextInt(3);
                int proto = protos[r.nextInt(protos.length)];
                int lo;
                int hi;
                switch (r.nextInt(4)) {
                    case 0 -> { lo = 0; hi = 65535; }
                    case 1 -> { lo = interesting[r.nextInt(interesting.length)]; hi = lo; }
                    default -> {
                        lo = r.nextInt(65536);
                        hi = Math.min(65535, lo + r.nextInt(r.nextBoolean() ? 100 : 40000));
                    }
                }
                int ruleId = 1 + r.nextInt(5);
                entries.add(switch (r.nextInt(3)) {
                    case 0 -> PolicyMapEntry.deny(d, peer, proto, lo, hi, ruleId);
                    case 1 -> PolicyMapEntry.allow(d, peer, proto, lo, hi, ruleId);
                    default -> PolicyMapEntry.redirect(d, peer, proto, lo, hi, 15000 + r.nextInt(3), ruleId);
                });
            }
            List<Integer> ports = new ArrayList<>();
            for (int p : interesting) {
                ports.add(p);
            }
            for (PolicyMapEntry e : entries) {
                for (int p : new int[] {e.portLow() - 1, e.portLow(), e.portHigh(), e.portHigh() + 1}) {
                    if (p >= 0 && p <= 65535) {
                        ports.add(p);
                    }
                }
            }
            assertSameAsEvaluator(entries, new int[] {100, 101, 102, 5}, new int[] {6, 17, 132, 1, 58},
                    ports.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    @Test
    void updatePlanOrdersDenyFirstAndStaleDenyLast() {
        Map<PolicyKey, PolicyValue> current = new HashMap<>(PolicyKeyGenerator.generate(EP, List.of(
                PolicyMapEntry.allow(INGRESS, 100, 6, 80, 80, 1),
                PolicyMapEntry.deny(INGRESS, 100, 6, 22, 22, 2))));
        Map<PolicyKey, PolicyValue> desired = PolicyKeyGenerator.generate(EP, List.of(
                PolicyMapEntry.allow(INGRESS, 100, 6, 443, 443, 3),
                PolicyMapEntry.deny(INGRESS, 100, 6, 80, 80, 4)));
        PolicyUpdatePlan plan = PolicyUpdatePlan.between(current, desired);
        assertThat(plan.upsertDeny()).containsOnlyKeys(new PolicyKey(EP, 100, INGRESS, 6, 80, 24));
        assertThat(plan.deleteAllow()).isEmpty(); // port 80 is overwritten by the deny, not deleted
        assertThat(plan.upsertAllow()).containsOnlyKeys(new PolicyKey(EP, 100, INGRESS, 6, 443, 24));
        assertThat(plan.deleteDeny()).containsExactly(new PolicyKey(EP, 100, INGRESS, 6, 22, 24));
        assertThat(PolicyUpdatePlan.between(desired, desired).isEmpty()).isTrue();
    }
}
