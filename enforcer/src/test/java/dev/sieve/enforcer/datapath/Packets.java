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
        int ext = hopByHop ? 8 : 0;
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + ext + l4.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x86dd);
        b.putInt(0x60000000).putShort((short) (ext + l4.length)).put((byte) (hopByHop ? 0 : proto)).put((byte) 64)
                .put(src).put(dst);
        if (hopByHop) {
            b.put((byte) proto).put((byte) 0).put(new byte[] {1, 4, 0, 0, 0, 0}); // PadN option
        }
        return b.put(l4).array();
    }

    /** First 8 bytes of a UDP or SCTP header (ports, then length/checksum or verification tag). */
    public static byte[] ports(int sport, int dport) {
        return ByteBuffer.allocate(12).putShort((short) sport).putShort((short) dport).putInt(8).putInt(0).array();
    }
}
