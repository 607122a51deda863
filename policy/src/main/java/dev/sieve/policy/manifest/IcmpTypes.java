package dev.sieve.policy.manifest;

import java.util.Map;

/** ICMP and ICMPv6 type names Cilium accepts in {@code icmps}, and their numbers. */
final class IcmpTypes {

    private static final Map<String, Integer> V4 = Map.ofEntries(
            Map.entry("EchoReply", 0), Map.entry("DestinationUnreachable", 3), Map.entry("Redirect", 5),
            Map.entry("Echo", 8), Map.entry("EchoRequest", 8), Map.entry("RouterAdvertisement", 9),
            Map.entry("RouterSelection", 10), Map.entry("TimeExceeded", 11), Map.entry("ParameterProblem", 12),
            Map.entry("Timestamp", 13), Map.entry("TimestampReply", 14), Map.entry("Photuris", 40),
            Map.entry("ExtendedEchoRequest", 42), Map.entry("ExtendedEchoReply", 43));
    private static final Map<String, Integer> V6 = Map.ofEntries(
            Map.entry("DestinationUnreachable", 1), Map.entry("PacketTooBig", 2), Map.entry("TimeExceeded", 3),
            Map.entry("ParameterProblem", 4), Map.entry("EchoRequest", 128), Map.entry("EchoReply", 129),
            Map.entry("MulticastListenerQuery", 130), Map.entry("MulticastListenerReport", 131),
            Map.entry("MulticastListenerDone", 132), Map.entry("RouterSolicitation", 133),
            Map.entry("RouterAdvertisement", 134), Map.entry("NeighborSolicitation", 135),
            Map.entry("NeighborAdvertisement", 136), Map.entry("RedirectMessage", 137),
            Map.entry("ExtendedEchoRequest", 160), Map.entry("ExtendedEchoReply", 161));

    private IcmpTypes() {}

    /** The type number, or -1 when the text is neither a number 0-255 nor a known name. */
    static int parse(String text, boolean v6) {
        if (text == null) return -1;
        if (text.matches("\\d{1,3}")) {
            int n = Integer.parseInt(text);
            return n <= 255 ? n : -1;
        }
        return (v6 ? V6 : V4).getOrDefault(text, -1);
    }
}
