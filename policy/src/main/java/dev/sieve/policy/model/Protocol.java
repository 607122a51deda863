package dev.sieve.policy.model;

/** L4 protocols a port rule can name, with their IP protocol numbers. ANY is 0, as in Cilium's maps. */
public enum Protocol {
    ANY(0), TCP(6), UDP(17), SCTP(132), ICMP(1), ICMPV6(58);

    public final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** Parses a policy's protocol field (case-insensitive, as Cilium accepts it). */
    public static Protocol parse(String s) {
        return switch (s.toUpperCase()) {
            case "ANY" -> ANY;
            case "TCP" -> TCP;
            case "UDP" -> UDP;
            case "SCTP" -> SCTP;
            case "ICMP" -> ICMP;
            case "ICMPV6" -> ICMPV6;
            default -> null;
        };
    }

    public static Protocol byNumber(int n) {
        for (Protocol p : values()) if (p.number == n) return p;
        return null;
    }

    /** Protocols that carry ports; ANY with a port means all of these. */
    public static final Protocol[] PORTED = {TCP, UDP, SCTP};
}
