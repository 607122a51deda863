package dev.sieve.api;

import dev.sieve.api.flow.DropReason;

/**
 * The names Hubble prints for datapath numbers: drop reasons as Cilium's monitor prints them
 * ({@code pkg/monitor/api/drop.go}), TCP flags in the order of Hubble's parser ({@code SYN, ACK, RST, FIN,
 * PSH, URG, ECE, CWR, NS}), and ICMP type/codes as gopacket's {@code TypeCode.String()}.
 */
public final class HubbleNames {

    private HubbleNames() {}

    public static final int TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10,
            TCP_URG = 0x20, TCP_ECE = 0x40, TCP_CWR = 0x80, TCP_NS = 0x100;

    private static final String[] TCP_FLAG_STRINGS = new String[512];

    static {
        for (int m = 0; m < 512; m++) {
            StringBuilder b = new StringBuilder();
            flag(b, m, TCP_SYN, "SYN");
            flag(b, m, TCP_ACK, "ACK");
            flag(b, m, TCP_RST, "RST");
            flag(b, m, TCP_FIN, "FIN");
            flag(b, m, TCP_PSH, "PSH");
            flag(b, m, TCP_URG, "URG");
            flag(b, m, TCP_ECE, "ECE");
            flag(b, m, TCP_CWR, "CWR");
            flag(b, m, TCP_NS, "NS");
            TCP_FLAG_STRINGS[m] = "TCP Flags: " + b;
        }
    }

    private static void flag(StringBuilder b, int mask, int bit, String name) {
        if ((mask & bit) == 0) return;
        if (!b.isEmpty()) b.append(", ");
        b.append(name);
    }

    /** Hubble's summary of a TCP packet, e.g. {@code TCP Flags: SYN, ACK}. */
    public static String tcpSummary(int flags) {
        return TCP_FLAG_STRINGS[flags & 0x1ff];
    }

    /** How {@code hubble observe} names a drop reason in the TYPE column, e.g. {@code Policy denied}. */
    public static String dropReason(int code) {
        return switch (code) {
            case 130 -> "Invalid source mac";
            case 131 -> "Invalid destination mac";
            case 132 -> "Invalid source ip";
            case 133 -> "Policy denied";
            case 134 -> "Invalid packet";
            case 135 -> "CT: Truncated or invalid header";
            case 136 -> "CT: Missing TCP ACK flag";
            case 137 -> "CT: Unknown L4 protocol";
            case 139 -> "Unsupported L3 protocol";
            case 140 -> "Missed tail call";
            case 141 -> "Error writing to packet";
            case 142 -> "Unknown L4 protocol";
            case 143 -> "Unknown ICMPv4 code";
            case 144 -> "Unknown ICMPv4 type";
            case 145 -> "Unknown ICMPv6 code";
            case 146 -> "Unknown ICMPv6 type";
            case 153 -> "Error while correcting L3 checksum";
            case 154 -> "Error while correcting L4 checksum";
            case 155 -> "CT: Map insertion failed";
            case 156 -> "Invalid IPv6 extension header";
            case 157 -> "Fragmentation needed";
            case 165 -> "No configuration available to perform policy decision";
            case 171 -> "Invalid identity";
            case 181 -> "Policy denied by denylist";
            case 189 -> "Authentication required";
            case 196 -> "TTL exceeded";
            default -> {
                DropReason r = DropReason.forNumber(code);
                yield r == null ? "Unknown drop reason (" + code + ")" : r.name();
            }
        };
    }

    /** gopacket's ICMPv4 type/code name, e.g. {@code EchoRequest}, {@code DestinationUnreachable(Port)}. */
    public static String icmpv4(int type, int code) {
        return switch (type) {
            case 0 -> "EchoReply";
            case 3 -> "DestinationUnreachable" + switch (code) {
                case 0 -> "(Net)";
                case 1 -> "(Host)";
                case 2 -> "(Protocol)";
                case 3 -> "(Port)";
                case 4 -> "(FragmentationNeeded)";
                case 5 -> "(SourceRoutingFailed)";
                case 9 -> "(NetAdminProhibited)";
                case 10 -> "(HostAdminProhibited)";
                case 13 -> "(CommAdminProhibited)";
                default -> "(Code: " + code + ")";
            };
            case 4 -> "SourceQuench";
            case 5 -> "Redirect";
            case 8 -> "EchoRequest";
            case 9 -> "RouterAdvertisement";
            case 10 -> "RouterSolicitation";
            case 11 -> "TimeExceeded" + (code == 0 ? "(TTLExceeded)" : code == 1 ? "(FragmentReassemblyTimeExceeded)" : "(Code: " + code + ")");
            case 12 -> "ParameterProblem";
            case 13 -> "TimestampRequest";
            case 14 -> "TimestampReply";
            default -> Integer.toString(type) + "(" + code + ")";
        };
    }

    /** gopacket's ICMPv6 type/code name, e.g. {@code EchoRequest}, {@code NeighborSolicitation}. */
    public static String icmpv6(int type, int code) {
        return switch (type) {
            case 1 -> "DestinationUnreachable" + switch (code) {
                case 0 -> "(NoRouteToDst)";
                case 1 -> "(AdminProhibited)";
                case 3 -> "(Address)";
                case 4 -> "(Port)";
                default -> "(Code: " + code + ")";
            };
            case 2 -> "PacketTooBig";
            case 3 -> "TimeExceeded" + (code == 0 ? "(HopLimitExceeded)" : "(FragmentReassemblyTimeExceeded)");
            case 4 -> "ParameterProblem";
            case 128 -> "EchoRequest";
            case 129 -> "EchoReply";
            case 133 -> "RouterSolicitation";
            case 134 -> "RouterAdvertisement";
            case 135 -> "NeighborSolicitation";
            case 136 -> "NeighborAdvertisement";
            case 137 -> "Redirect";
            default -> Integer.toString(type) + "(" + code + ")";
        };
    }

    /** Hubble's name of a policy match type ({@code pkg/monitor/api} PolicyMatchType). */
    public static String policyMatchType(int t) {
        return switch (t) {
            case 1 -> "L3-Only";
            case 2 -> "L3-L4";
            case 3 -> "L4-Only";
            case 4 -> "all";
            case 5 -> "L3-Proto";
            case 6 -> "Proto-Only";
            default -> "none";
        };
    }

    /** Cilium's trace observation point names (sub types of trace events). */
    public static String traceObservationPoint(int subType) {
        return switch (subType) {
            case 0 -> "to-endpoint";
            case 1 -> "to-proxy";
            case 2 -> "to-host";
            case 3 -> "to-stack";
            case 4 -> "to-overlay";
            case 5 -> "from-endpoint";
            case 6 -> "from-proxy";
            case 7 -> "from-host";
            case 8 -> "from-stack";
            case 9 -> "from-overlay";
            case 10 -> "from-network";
            case 11 -> "to-network";
            default -> "unknown trace point " + subType;
        };
    }
}
