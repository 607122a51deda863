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
        b.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0)
                .put((byte) 0x50).put((byte) flags).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        return b.array();
    }
}
