package dev.sieve.enforcer.datapath;

import java.nio.ByteBuffer;

/** Hand-built Ethernet frames for BPF_PROG_TEST_RUN. Checksums are left zero (tc does not check). */
public final class Packets {
    private Packets() {}

    /** Ethernet + IPv4 + TCP with the given flags. */
    public static byte[] tcp4(byte[] src, byte[] dst, int sport, int dport, int flags) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 20);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).put(src).put(dst);
        return b.put(tcp(sport, dport, flags)).array();
    }

    /** A 20-byte TCP header with the given flags (sequence 1, window 65535). */
    public static byte[] tcp(int sport, int dport, int flags) {
        return ByteBuffer.allocate(20).putShort((short) sport).putShort((short) dport).putInt(1).putInt(0)
                .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putShort((short) 0).putShort((short) 0).array();
    }

    /** Ethernet + IPv4 + an L4 payload of protocol {@code proto}. */
    public static byte[] ipv4(byte[] src, byte[] dst, int proto, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) proto).putShort((short) 0).put(src).put(dst);
        return b.put(l4).array();
    }

    /** Ethernet + IPv6 (optionally behind a hop-by-hop header) + an L4 payload. */
    public static byte[] ipv6(byte[] src, byte[] dst, int proto, boolean hopByHop, byte[] l4) {
        return hopByHop ? ipv6(src, dst, proto, l4, HOP_BY_HOP) : ipv6(src, dst, proto, l4);
    }

    public static final int HOP_BY_HOP = 0;
    public static final int DEST_OPTS = 60;
    /** A fragment header of offset 0, more fragments: the first fragment. */
    public static final int FIRST_FRAGMENT = 44;
    /** A fragment header of offset 1480 bytes: a later fragment. */
    public static final int LATER_FRAGMENT = -44;

    /**
     * Ethernet + IPv6 + a chain of 8-byte extension headers of the given types (hop-by-hop and
     * destination options padded with PadN; {@link #FIRST_FRAGMENT} / {@link #LATER_FRAGMENT}) + an
     * L4 payload of protocol {@code proto}.
     */
    public static byte[] ipv6(byte[] src, byte[] dst, int proto, byte[] l4, int... ext) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + 8 * ext.length + l4.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x86dd);
        b.putInt(0x60000000).putShort((short) (8 * ext.length + l4.length))
                .put((byte) (ext.length > 0 ? Math.abs(ext[0]) : proto)).put((byte) 64).put(src).put(dst);
        for (int i = 0; i < ext.length; i++) {
            byte next = (byte) (i + 1 < ext.length ? Math.abs(ext[i + 1]) : proto);
            if (ext[i] == FIRST_FRAGMENT || ext[i] == LATER_FRAGMENT) {
                int offsetUnits = ext[i] == FIRST_FRAGMENT ? 0 : 1480 / 8;
                b.put(next).put((byte) 0).putShort((short) (offsetUnits << 3 | 1)).putInt(0x1234);
            } else {
                b.put(next).put((byte) 0).put(new byte[] {1, 4, 0, 0, 0, 0}); // PadN option
            }
        }
        return b.put(l4).array();
    }

    /** First 8 bytes of a UDP or SCTP header (ports, then length/checksum or verification tag). */
    public static byte[] ports(int sport, int dport) {
        return ByteBuffer.allocate(12).putShort((short) sport).putShort((short) dport).putInt(8).putInt(0).array();
    }
}
