package dev.sieve.policy.compute;

import dev.sieve.policy.model.Direction;
import java.util.List;

/**
 * The policy in force for one endpoint: its identity's compiled policy plus the enforcement state that
 * follows from the mode. This is what the datapath programs and what {@code trace} reads.
 */
public record EndpointPolicy(Endpoint endpoint, IdentityPolicy policy, EnforcementMode mode) {

    public boolean enforced(Direction d) {
        return switch (mode) {
            case ALWAYS -> true;
            case NEVER -> false;
            case DEFAULT -> policy != null && policy.selected(d);
        };
    }

    public boolean audit() {
        return endpoint.audit();
    }

    /** The entries of a direction; empty when the direction is not enforced. */
    public List<PolicyEntry> entries(Direction d) {
        return policy == null || mode == EnforcementMode.NEVER ? List.of() : policy.entries(d);
    }

    /** The entries of a direction for one peer identity; empty when the direction is not enforced. */
    public List<PolicyEntry> entries(Direction d, int peer) {
        return policy == null || mode == EnforcementMode.NEVER ? List.of() : policy.entries(d, peer);
    }

    public Match lookup(Direction d, int peer, int proto, int port) {
        return policy == null || mode == EnforcementMode.NEVER ? Match.NONE : policy.lookup(d, peer, proto, port);
    }
}
