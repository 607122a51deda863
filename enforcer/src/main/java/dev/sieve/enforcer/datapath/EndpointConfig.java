package dev.sieve.enforcer.datapath;

import dev.sieve.enforcer.maps.IpPrefix;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

/**
 * Per-endpoint datapath settings: its id (the key of its policy entries), its own security
 * identity, whether each direction is enforced (unmatched traffic dropped), audit mode
 * (would-be drops pass and are reported as AUDIT) and the pod's own addresses. With addresses
 * (at most one per family, as a pod has), a packet leaving the pod with any other source is
 * dropped (INVALID_SOURCE_IP); an empty list means "not known": no source check (tools, tests).
 */
public record EndpointConfig(int endpointId, int identity, boolean enforceIngress, boolean enforceEgress, boolean audit,
                             List<String> addresses) {
    public EndpointConfig {
        if (endpointId == 0) {
            throw new IllegalArgumentException("endpoint id 0 is reserved");
        }
        addresses = List.copyOf(addresses);
        int v4 = 0, v6 = 0;
        for (String a : addresses) {
            InetAddress ip = IpPrefix.literal(a, a);
            if (ip instanceof Inet4Address) v4++;
            else v6++;
        }
        if (v4 > 1 || v6 > 1) {
            throw new IllegalArgumentException("an endpoint has at most one IPv4 and one IPv6 address: " + addresses);
        }
    }

    /** Without addresses: no source check. */
    public EndpointConfig(int endpointId, int identity, boolean enforceIngress, boolean enforceEgress, boolean audit) {
        this(endpointId, identity, enforceIngress, enforceEgress, audit, List.of());
    }

    public Inet4Address ipv4() {
        for (String a : addresses) {
            if (IpPrefix.literal(a, a) instanceof Inet4Address v4) return v4;
        }
        return null;
    }

    public Inet6Address ipv6() {
        for (String a : addresses) {
            if (IpPrefix.literal(a, a) instanceof Inet6Address v6) return v6;
        }
        return null;
    }
}
