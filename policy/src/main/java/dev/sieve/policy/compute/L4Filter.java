package dev.sieve.policy.compute;

import dev.sieve.policy.l7.L7Rules;

/**
 * One (peers, protocol, port range) -> action unit of a compiled policy; {@code peers} null means every
 * peer (identity 0 in the datapath).
 */
final class L4Filter {

    final IdentityPolicy owner;
    final CachedSelector peers;
    final int protocol;
    final int portLow;
    final int portHigh;
    final Action action;
    final RuleInfo rule;
    final L7Rules l7;

    L4Filter(IdentityPolicy owner, CachedSelector peers, int protocol, int portLow, int portHigh, Action action,
             RuleInfo rule, L7Rules l7) {
        this.owner = owner;
        this.peers = peers;
        this.protocol = protocol;
        this.portLow = portLow;
        this.portHigh = portHigh;
        this.action = action;
        this.rule = rule;
        this.l7 = l7;
    }

    boolean matchesL4(int proto, int port) {
        return (protocol == 0 || protocol == proto) && port >= portLow && port <= portHigh;
    }

    PolicyEntry entry(int peer) {
        return new PolicyEntry(rule.direction(), peer, protocol, portLow, portHigh, action, rule.id(), l7);
    }
}
