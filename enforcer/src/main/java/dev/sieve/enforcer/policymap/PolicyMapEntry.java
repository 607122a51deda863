package dev.sieve.enforcer.policymap;

import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.Direction;

/**
 * One computed policy entry of an endpoint, as the policy engine produces it: traffic in
 * {@code direction} with a peer of {@code peerIdentity} (0 = any peer), IP protocol
 * {@code protocol} (0 = any; 6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6) and a destination
 * port in {@code portLow..portHigh} (0..65535 = all ports; for ICMP the "port" is the type)
 * gets {@code action}. {@code ruleId} names the rule so a flow can name its policy.
 *
 * <p>Semantics for a packet (peer, protocol, port): every entry that matches counts; any DENY
 * drops (reason 181 POLICY_DENY); else any ALLOW or REDIRECT passes (REDIRECT only if every
 * matching allow is a REDIRECT); else the packet is dropped (133 POLICY_DENIED) if the
 * direction is enforced and passes otherwise. {@link PolicyEvaluator} is the reference.
 */
public record PolicyMapEntry(Direction direction, int peerIdentity, int protocol, int portLow, int portHigh,
                             Action action, int proxyPort, int ruleId) {
    public static final int ANY_IDENTITY = 0;
    public static final int ANY_PROTOCOL = 0;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int SCTP = 132;
    public static final int ICMP = 1;
    public static final int ICMPV6 = 58;

    public PolicyMapEntry {
        if (direction == null || action == null) {
            throw new IllegalArgumentException("policy entry needs a direction and an action");
        }
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol must be 0..255: " + protocol);
        }
        if (portLow < 0 || portHigh > 65535 || portLow > portHigh) {
            throw new IllegalArgumentException("bad port range " + portLow + ".." + portHigh);
        }
        if (action == Action.REDIRECT ? proxyPort <= 0 || proxyPort > 65535 : proxyPort != 0) {
            throw new IllegalArgumentException(action == Action.REDIRECT
                    ? "REDIRECT needs a proxy port 1..65535, got " + proxyPort
                    : "proxy port " + proxyPort + " given for " + action);
        }
    }

    public static PolicyMapEntry allow(Direction d, int peer, int proto, int lo, int hi, int ruleId) {
        return new PolicyMapEntry(d, peer, proto, lo, hi, Action.ALLOW, 0, ruleId);
    }

    public static PolicyMapEntry deny(Direction d, int peer, int proto, int lo, int hi, int ruleId) {
        return new PolicyMapEntry(d, peer, proto, lo, hi, Action.DENY, 0, ruleId);
    }

    public static PolicyMapEntry redirect(Direction d, int peer, int proto, int lo, int hi, int proxyPort, int ruleId) {
        return new PolicyMapEntry(d, peer, proto, lo, hi, Action.REDIRECT, proxyPort, ruleId);
    }

    public boolean allPorts() {
        return portLow == 0 && portHigh == 65535;
    }

    public boolean matches(Direction d, int peer, int proto, int port) {
        return d == direction
                && (peerIdentity == ANY_IDENTITY || peerIdentity == peer)
                && (protocol == ANY_PROTOCOL || protocol == proto)
                && port >= portLow && port <= portHigh;
    }
}
