package dev.sieve.enforcer.events;

import dev.sieve.enforcer.maps.Direction;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A reusable, allocation-free view of one struct verdict_event in the ring buffer. Valid only
 * inside the handler call that received it; {@link #toEvent()} copies it out.
 */
public final class VerdictEventView {
    public static final long SIZE = 80;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private MemorySegment seg;

    VerdictEventView wrap(MemorySegment s) {
        this.seg = s;
        return this;
    }

    public long timestampNs() { return seg.get(LONG, 0); }
    public int srcIdentity() { return seg.get(INT, 40); }
    public int dstIdentity() { return seg.get(INT, 44); }
    public int ruleId() { return seg.get(INT, 48); }
    public int endpointId() { return seg.get(INT, 52); }
    public int ifindex() { return seg.get(INT, 56); }
    public int packetLen() { return seg.get(INT, 60); }
    public int srcPort() { return Short.toUnsignedInt(seg.get(SHORT, 64)); }
    public int dstPort() { return Short.toUnsignedInt(seg.get(SHORT, 66)); }
    public int dropReason() { return Short.toUnsignedInt(seg.get(SHORT, 68)); }
    public int proxyPort() { return Short.toUnsignedInt(seg.get(SHORT, 70)); }
    public int verdict() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 72)); }
    public int directionCode() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 73)); }
    public int family() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 74)); }
    public int protocol() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 75)); }
    public int tcpFlags() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 76)); }
    public int flags() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 77)); }
    public int icmpType() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 78)); }
    public int icmpCode() { return Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 79)); }

    /** Copies the source address (4 or 16 bytes) into {@code dst}; returns its length. */
    public int srcAddr(byte[] dst) { return addr(8, dst); }
    public int dstAddr(byte[] dst) { return addr(24, dst); }

    private int addr(long off, byte[] dst) {
        int n = family() == 4 ? 4 : 16;
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, dst, 0, n);
        return n;
    }

    /** Why this record is none the datapath writes (an unknown address family or direction), or null. */
    public String problem() {
        int fam = family();
        if (fam != 4 && fam != 6) return "address family " + fam;
        int dir = directionCode();
        if (dir > 2) return "direction code " + dir;
        return null;
    }

    /** An immutable copy. */
    public VerdictEvent toEvent() {
        int n = family() == 4 ? 4 : 16;
        byte[] src = new byte[n];
        byte[] dst = new byte[n];
        srcAddr(src);
        dstAddr(dst);
        int dir = directionCode();
        return new VerdictEvent(timestampNs(), family(), src, dst, srcPort(), dstPort(), protocol(),
                srcIdentity(), dstIdentity(), verdict(), dropReason(), ruleId(),
                dir == 0 ? null : Direction.of(dir), tcpFlags(), flags(), icmpType(), icmpCode(),
                packetLen(), ifindex(), endpointId(), proxyPort());
    }
}
