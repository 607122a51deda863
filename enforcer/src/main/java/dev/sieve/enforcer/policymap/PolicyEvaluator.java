package dev.sieve.enforcer.policymap;

import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.PolicyValue;
import java.util.ArrayList;
import java.util.List;

/** The reference semantics of a list of {@link PolicyMapEntry} (what the datapath must do). */
public final class PolicyEvaluator {
    private PolicyEvaluator() {}

    /** The decision for a packet, or null when no entry matches (then enforcement decides). */
    public static PolicyValue decide(List<PolicyMapEntry> entries, Direction d, int peer, int proto, int port) {
        List<PolicyMapEntry> matching = new ArrayList<>();
        for (PolicyMapEntry e : entries) {
            if (e.matches(d, peer, proto, port)) {
                matching.add(e);
            }
        }
        return PolicyDecision.of(matching);
    }
}
