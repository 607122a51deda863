package dev.sieve.enforcer.policymap;

import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.PolicyValue;
import java.util.Collection;

/**
 * What a set of matching entries decides: DENY if any denies, else ALLOW if any allows, else
 * REDIRECT; the rule is the lowest rule id among the entries of the deciding action (for
 * REDIRECT ties, the lowest proxy port). The datapath combines its two lookups the same way.
 */
public final class PolicyDecision {
    private PolicyDecision() {}

    /** The decision of {@code matching}, or null when it is empty. */
    public static PolicyValue of(Collection<PolicyMapEntry> matching) {
        PolicyValue best = null;
        for (PolicyMapEntry e : matching) {
            best = better(best, new PolicyValue(e.action(), e.ruleId(), e.proxyPort()));
        }
        return best;
    }

    /** The stronger of two decisions (either may be null). */
    public static PolicyValue better(PolicyValue a, PolicyValue b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        int ra = rank(a.action());
        int rb = rank(b.action());
        if (ra != rb) {
            return ra > rb ? a : b;
        }
        if (a.ruleId() != b.ruleId()) {
            return Integer.compareUnsigned(a.ruleId(), b.ruleId()) < 0 ? a : b;
        }
        return a.proxyPort() <= b.proxyPort() ? a : b;
    }

    private static int rank(Action a) {
        return switch (a) {
            case DENY -> 3;
            case ALLOW -> 2;
            case REDIRECT -> 1;
        };
    }
}
