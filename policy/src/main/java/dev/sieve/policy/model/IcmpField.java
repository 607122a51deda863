package dev.sieve.policy.model;

/** An ICMP (IPv4) or ICMPv6 type a rule allows or denies. */
public record IcmpField(boolean ipv6, int type) {

    public Protocol protocol() {
        return ipv6 ? Protocol.ICMPV6 : Protocol.ICMP;
    }
}
