package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Key of the per-CPU metrics map: verdict (Hubble numbering), direction, drop reason (0 if none). The key
 * (verdict 0, no direction, reason 0) counts verdict events lost because the ring buffer was full.
 */
public record MetricsKey(int verdict, Direction direction, int dropReason) {
    public static final MetricsKey LOST_EVENTS = new MetricsKey(0, null, 0);

    public static MetricsKey read(MemorySegment seg) {
        int dir = seg.get(ValueLayout.JAVA_BYTE, 1);
        return new MetricsKey(Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 0)),
                dir == 0 ? null : Direction.of(dir),
                Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT, 2)));
    }
}
