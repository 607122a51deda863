package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Key of the per-CPU metrics map: verdict (Hubble numbering), direction, drop reason (0 if none). */
public record MetricsKey(int verdict, Direction direction, int dropReason) {
    public static MetricsKey read(MemorySegment seg) {
        return new MetricsKey(Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, 0)),
                Direction.of(seg.get(ValueLayout.JAVA_BYTE, 1)),
                Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT, 2)));
    }
}
