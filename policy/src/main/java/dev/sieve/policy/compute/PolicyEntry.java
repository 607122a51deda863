package dev.sieve.policy.compute;

import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.model.Direction;

/**
 * One computed entry of an endpoint's policy: traffic with this peer identity (0 = any), protocol (0 = any)
 * and destination port in [portLow, portHigh] (the ICMP type for ICMP) gets {@code action}. Deny entries win
 * over allow entries; among allows, a plain ALLOW wins over REDIRECT (its L7 rules are then not needed).
 */
public record PolicyEntry(Direction direction, int peerIdentity, int protocol, int portLow, int portHigh,
                          Action action, int ruleId, L7Rules l7) {

    public boolean matches(int identity, int proto, int port) {
        return (peerIdentity == 0 || peerIdentity == identity)
                && (protocol == 0 || protocol == proto)
                && port >= portLow && port <= portHigh;
    }
}
