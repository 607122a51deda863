package dev.sieve.enforcer.events;

import dev.sieve.enforcer.maps.Direction;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * A verdict event from the datapath (struct verdict_event), decoded. Verdicts and drop reasons
 * use Hubble's numbers. Ports are 0 for protocols without ports; for ICMP echo both ports hold
 * the echo id.
 */
public record VerdictEvent(
        long timestampNs,
        int family,
        byte[] srcAddr,
        byte[] dstAddr,
        int srcPort,
        int dstPort,
        int protocol,
        int srcIdentity,
        int dstIdentity,
        int verdict,
        int dropReason,
        int ruleId,
        Direction direction,
        int tcpFlags,
        int flags,
        int icmpType,
        int icmpCode,
        int packetLen,
        int ifindex,
        int endpointId,
        int proxyPort) {

    public static final int FORWARDED = 1;
    public static final int DROPPED = 2;
    public static final int AUDIT = 4;
    public static final int REDIRECTED = 5;

    public static final int POLICY_DENIED = 133;
    /** Redirected to the L7 proxy, which has no socket for it (not listening): dropped, fail closed. */
    public static final int SOCKET_LOOKUP_FAILED = 178;
    public static final int POLICY_DENY = 181;

    public static final int FLAG_REPLY = 0x01;
    public static final int FLAG_NEW = 0x02;
    public static final int FLAG_AUDIT = 0x04;
    public static final int FLAG_CLOSE = 0x08;
    public static final int FLAG_RECHECK = 0x10;
    /** The L7 proxy's upstream connection. */
    public static final int FLAG_FROM_PROXY = 0x20;

    public InetAddress source() {
        return address(srcAddr);
    }

    public InetAddress destination() {
        return address(dstAddr);
    }

    public boolean isReply() {
        return (flags & FLAG_REPLY) != 0;
    }

    public boolean isNewConnection() {
        return (flags & FLAG_NEW) != 0;
    }

    public static String verdictName(int verdict) {
        return switch (verdict) {
            case FORWARDED -> "FORWARDED";
            case DROPPED -> "DROPPED";
            case 3 -> "ERROR";
            case AUDIT -> "AUDIT";
            case REDIRECTED -> "REDIRECTED";
            default -> "VERDICT_UNKNOWN";
        };
    }

    private static InetAddress address(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VerdictEvent e && timestampNs == e.timestampNs && family == e.family
                && Arrays.equals(srcAddr, e.srcAddr) && Arrays.equals(dstAddr, e.dstAddr)
                && srcPort == e.srcPort && dstPort == e.dstPort && protocol == e.protocol
                && srcIdentity == e.srcIdentity && dstIdentity == e.dstIdentity && verdict == e.verdict
                && dropReason == e.dropReason && ruleId == e.ruleId && direction == e.direction
                && tcpFlags == e.tcpFlags && flags == e.flags && icmpType == e.icmpType && icmpCode == e.icmpCode
                && packetLen == e.packetLen && ifindex == e.ifindex && endpointId == e.endpointId
                && proxyPort == e.proxyPort;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(timestampNs) * 31 + Arrays.hashCode(srcAddr) * 17 + Arrays.hashCode(dstAddr) + dstPort;
    }

    @Override
    public String toString() {
        String proto = switch (protocol) {
            case 6 -> "TCP";
            case 17 -> "UDP";
            case 132 -> "SCTP";
            case 1 -> "ICMP";
            case 58 -> "ICMPv6";
            default -> "proto" + protocol;
        };
        return verdictName(verdict) + (dropReason != 0 ? "(" + dropReason + ")" : "") + " " + direction + " "
                + proto + " " + source().getHostAddress() + ":" + srcPort + " (id " + srcIdentity + ") -> "
                + destination().getHostAddress() + ":" + dstPort + " (id " + dstIdentity + ") rule " + ruleId
                + " flags 0x" + Integer.toHexString(flags) + " tcp 0x" + Integer.toHexString(tcpFlags)
                + (protocol == 1 || protocol == 58 ? " icmp " + icmpType + "/" + icmpCode : "")
                + " ep " + endpointId + " if " + ifindex + " len " + packetLen;
    }
}
