package dev.sieve.policy.model;

import dev.sieve.policy.l7.L7Rules;
import java.util.List;

/** One toPorts entry: ports (empty = every port) and optional L7 rules for them. */
public record PortRule(List<PortProtocol> ports, L7Rules l7) {

    public boolean hasL7() {
        return l7 != null && !l7.isEmpty();
    }
}
