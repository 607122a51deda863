package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Value of the endpoint maps (keyed by the host-side veth ifindex); written with present = 1.
 * {@code ipv4}/{@code ipv6} are the pod's own addresses (null: none of that family); with
 * {@code sourceCheck} the datapath drops packets from the pod with any other source (reason 132).
 * {@code notReady}: the endpoint could not be fully programmed, every IP packet is dropped (203).
 */
public record EndpointInfo(int endpointId, int identity, int policyRevision,
                           boolean enforceIngress, boolean enforceEgress, boolean audit,
                           boolean sourceCheck, Inet4Address ipv4, Inet6Address ipv6, boolean notReady) {
    public static final int F_SRC_CHECK = 0x01;
    public static final int F_IPV4 = 0x02;
    public static final int F_IPV6 = 0x04;
    public static final int F_NOT_READY = 0x08;
    private static final long FLAGS = MapLayouts.offset(MapLayouts.ENDPOINT_INFO, "flags");
    private static final long IPV4 = MapLayouts.offset(MapLayouts.ENDPOINT_INFO, "ipv4");
    private static final long IPV6 = MapLayouts.offset(MapLayouts.ENDPOINT_INFO, "ipv6");

    /** Without known addresses (no source check), ready. */
    public EndpointInfo(int endpointId, int identity, int policyRevision,
                        boolean enforceIngress, boolean enforceEgress, boolean audit) {
        this(endpointId, identity, policyRevision, enforceIngress, enforceEgress, audit, false, null, null, false);
    }

    public void write(MemorySegment seg) {
        seg.fill((byte) 0);
        seg.set(ValueLayout.JAVA_INT, 0, endpointId);
        seg.set(ValueLayout.JAVA_INT, 4, identity);
        seg.set(ValueLayout.JAVA_INT, 8, policyRevision);
        seg.set(ValueLayout.JAVA_BYTE, 12, (byte) (enforceIngress ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 13, (byte) (enforceEgress ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 14, (byte) (audit ? 1 : 0));
        seg.set(ValueLayout.JAVA_BYTE, 15, (byte) 1);
        int flags = (sourceCheck ? F_SRC_CHECK : 0) | (ipv4 != null ? F_IPV4 : 0) | (ipv6 != null ? F_IPV6 : 0)
                | (notReady ? F_NOT_READY : 0);
        seg.set(ValueLayout.JAVA_BYTE, FLAGS, (byte) flags);
        if (ipv4 != null) MemorySegment.copy(ipv4.getAddress(), 0, seg, ValueLayout.JAVA_BYTE, IPV4, 4);
        if (ipv6 != null) MemorySegment.copy(ipv6.getAddress(), 0, seg, ValueLayout.JAVA_BYTE, IPV6, 16);
    }

    public static EndpointInfo read(MemorySegment seg) {
        int flags = seg.get(ValueLayout.JAVA_BYTE, FLAGS);
        return new EndpointInfo(
                seg.get(ValueLayout.JAVA_INT, 0),
                seg.get(ValueLayout.JAVA_INT, 4),
                seg.get(ValueLayout.JAVA_INT, 8),
                seg.get(ValueLayout.JAVA_BYTE, 12) != 0,
                seg.get(ValueLayout.JAVA_BYTE, 13) != 0,
                seg.get(ValueLayout.JAVA_BYTE, 14) != 0,
                (flags & F_SRC_CHECK) != 0,
                (flags & F_IPV4) != 0 ? (Inet4Address) address(seg, IPV4, 4) : null,
                (flags & F_IPV6) != 0 ? (Inet6Address) address(seg, IPV6, 16) : null,
                (flags & F_NOT_READY) != 0);
    }

    private static InetAddress address(MemorySegment seg, long off, int len) {
        byte[] b = seg.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
        try {
            if (len == 16) return Inet6Address.getByAddress(null, b, -1);
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }

    public EndpointInfo withRevision(int revision) {
        return new EndpointInfo(endpointId, identity, revision, enforceIngress, enforceEgress, audit, sourceCheck, ipv4, ipv6, notReady);
    }

    public EndpointInfo withNotReady(boolean v) {
        return new EndpointInfo(endpointId, identity, policyRevision, enforceIngress, enforceEgress, audit, sourceCheck, ipv4, ipv6, v);
    }
}
