package dev.sieve.enforcer.datapath;

import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.BpfMap;
import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.enforcer.libbpf.PinnedMap;
import dev.sieve.enforcer.maps.MapLayouts;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Carries the conntrack of an older datapath, found pinned, into the current map, so an agent
 * upgrade keeps established connections (their replies would otherwise be judged as new
 * packets). v1 ({@code sieve_ct}) keyed an entry by the tuple of its first packet; v2 keys it by
 * the canonical tuple (lower address and port first) and records in {@code orig_swapped} whether
 * the opener's tuple was turned round. Pins of retired maps are removed afterwards.
 */
final class ConntrackMigration {
    static final String CT_V1 = "sieve_ct";
    /** Maps of older layouts the current object no longer uses. */
    static final List<String> RETIRED = List.of(CT_V1, "sieve_metrics");

    private static final long SADDR = MapLayouts.offset(MapLayouts.CT_KEY, "saddr");
    private static final long DADDR = MapLayouts.offset(MapLayouts.CT_KEY, "daddr");
    private static final long SPORT = MapLayouts.offset(MapLayouts.CT_KEY, "sport");
    private static final long DPORT = MapLayouts.offset(MapLayouts.CT_KEY, "dport");
    private static final long ORIG_SWAPPED = MapLayouts.offset(MapLayouts.CT_VALUE, "orig_swapped");

    private ConntrackMigration() {}

    /** Copies the v1 entries under {@code pinDir} into {@code ct} (v2); returns how many were copied. */
    static int migrate(Path pinDir, BpfMap ct) {
        Path v1 = pinDir.resolve(CT_V1);
        int[] copied = {0};
        if (Files.exists(v1)) {
            try (PinnedMap old = PinnedMap.open(v1)) {
                old.forEach((int) MapLayouts.CT_KEY.byteSize(), (int) MapLayouts.CT_VALUE.byteSize(), (key, value) -> {
                    canonicalize(key, value);
                    try {
                        ct.update(key, value, LibBpf.BPF_NOEXIST); // an entry the new program made wins
                        copied[0]++;
                    } catch (BpfException e) {
                        // EEXIST, or the map is full: that connection is judged afresh
                    }
                });
            }
        }
        for (String name : RETIRED) {
            try {
                Files.deleteIfExists(pinDir.resolve(name));
            } catch (IOException e) {
                throw new BpfException("cannot remove the retired map pin " + pinDir.resolve(name) + ": " + e.getMessage(), 0);
            }
        }
        return copied[0];
    }

    /** Turns a v1 key (first packet's tuple) into the v2 canonical key, in place. */
    static void canonicalize(MemorySegment key, MemorySegment value) {
        boolean swap = after(key, SADDR, Short.toUnsignedInt(key.get(ValueLayout.JAVA_SHORT, SPORT)),
                DADDR, Short.toUnsignedInt(key.get(ValueLayout.JAVA_SHORT, DPORT)));
        value.set(ValueLayout.JAVA_BYTE, ORIG_SWAPPED, (byte) (swap ? 1 : 0));
        if (swap) {
            byte[] s = key.asSlice(SADDR, 16).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment.copy(key, DADDR, key, SADDR, 16);
            MemorySegment.copy(s, 0, key, ValueLayout.JAVA_BYTE, DADDR, 16);
            short sp = key.get(ValueLayout.JAVA_SHORT, SPORT);
            key.set(ValueLayout.JAVA_SHORT, SPORT, key.get(ValueLayout.JAVA_SHORT, DPORT));
            key.set(ValueLayout.JAVA_SHORT, DPORT, sp);
        }
    }

    /** The datapath's order: addresses as unsigned big-endian bytes, then ports. */
    private static boolean after(MemorySegment key, long a, int pa, long b, int pb) {
        for (int i = 0; i < 16; i++) {
            int x = Byte.toUnsignedInt(key.get(ValueLayout.JAVA_BYTE, a + i));
            int y = Byte.toUnsignedInt(key.get(ValueLayout.JAVA_BYTE, b + i));
            if (x != y) {
                return x > y;
            }
        }
        return pa > pb;
    }
}
