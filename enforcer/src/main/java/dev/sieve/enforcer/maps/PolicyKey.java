package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A key of the policy LPM trie. {@code prefixLen} counts the bits after the static part
 * (endpoint, identity, direction): 0 = any protocol, 8 = one protocol and any port,
 * 8 + k = one protocol and the ports sharing the top k bits of {@code port}.
 */
public record PolicyKey(int endpointId, int identity, Direction direction, int protocol, int port, int prefixLen) {
    public static final int STATIC_PREFIX = 72;
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    public PolicyKey {
        if (prefixLen < 0 || prefixLen > 24) {
            throw new IllegalArgumentException("policy key prefixLen must be 0..24: " + prefixLen);
        }
        if (protocol < 0 || protocol > 255 || port < 0 || port > 65535) {
            throw new IllegalArgumentException("protocol/port out of range: " + protocol + "/" + port);
        }
        // canonical: bits outside the prefix are zero
        if (prefixLen == 0) {
            protocol = 0;
        }
        int portBits = Math.max(0, prefixLen - 8);
        port = portBits == 0 ? 0 : port & (0xffff << (16 - portBits)) & 0xffff;
    }

    /** Lowest and highest port this key covers (0..65535 for a protocol-wide key). */
    public int portLow() {
        return port;
    }

    public int portHigh() {
        int portBits = Math.max(0, prefixLen - 8);
        return port | (0xffff >>> portBits);
    }

    public void write(MemorySegment seg) {
        seg.set(ValueLayout.JAVA_INT, 0, STATIC_PREFIX + prefixLen);
        seg.set(ValueLayout.JAVA_INT, 4, endpointId);
        seg.set(ValueLayout.JAVA_INT, 8, identity);
        seg.set(ValueLayout.JAVA_BYTE, 12, (byte) direction.code());
        seg.set(ValueLayout.JAVA_BYTE, 13, (byte) protocol);
        seg.set(BE_SHORT, 14, (short) port);
    }

    public static PolicyKey read(MemorySegment seg) {
        return new PolicyKey(
                seg.get(ValueLayout.JAVA_INT, 4),
                seg.get(ValueLayout.JAVA_INT, 8),
                Direction.of(seg.get(ValueLayout.JAVA_BYTE, 12)),
                Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 13)),
                Short.toUnsignedInt(seg.get(BE_SHORT, 14)),
                seg.get(ValueLayout.JAVA_INT, 0) - STATIC_PREFIX);
    }

    /** Endpoint id of a raw key without decoding the rest. */
    public static int endpointIdOf(MemorySegment seg) {
        return seg.get(ValueLayout.JAVA_INT, 4);
    }
}
