package dev.sieve.agent.fqdn;

import dev.sieve.enforcer.libbpf.PinnedMap;
import dev.sieve.enforcer.maps.MapLayouts;
import dev.sieve.policy.net.Cidr;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Which address pairs have a live connection, read from the datapath's pinned conntrack map (read only): an
 * entry is live until the datapath itself would consider it expired (its lifetimes: 6 h for TCP, 60 s for other
 * protocols, 10 s once closing). Pairs are unordered.
 */
final class LiveConnections {

    private static final long TCP_NS = 21_600L * 1_000_000_000L;
    private static final long OTHER_NS = 60L * 1_000_000_000L;
    private static final long CLOSING_NS = 10L * 1_000_000_000L;

    private final Path map;

    LiveConnections(Path pinDir) {
        this.map = pinDir.resolve("sieve_ct_v2");
    }

    /** Live pairs as {@link #pair} keys; empty when the map is not there (no datapath). */
    Set<String> snapshot() {
        Set<String> out = new HashSet<>();
        if (!Files.exists(map)) return out;
        long keySize = MapLayouts.CT_KEY.byteSize(), valueSize = MapLayouts.CT_VALUE.byteSize();
        long now = System.nanoTime(); // CLOCK_MONOTONIC, bpf_ktime_get_ns's clock
        long sOff = MapLayouts.CT_KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("saddr"));
        long dOff = MapLayouts.CT_KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("daddr"));
        long protoOff = MapLayouts.CT_KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("protocol"));
        long familyOff = MapLayouts.CT_KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("family"));
        long seenOff = MapLayouts.CT_VALUE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("last_seen_ns"));
        long closingOff = MapLayouts.CT_VALUE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("closing"));
        try (PinnedMap m = PinnedMap.open(map)) {
            m.forEach((int) keySize, (int) valueSize, (k, v) -> {
                int proto = k.get(ValueLayout.JAVA_BYTE, protoOff) & 0xFF;
                boolean closing = v.get(ValueLayout.JAVA_BYTE, closingOff) != 0;
                long life = closing ? CLOSING_NS : proto == 6 ? TCP_NS : OTHER_NS;
                if (now - v.get(ValueLayout.JAVA_LONG, seenOff) > life) return;
                int family = k.get(ValueLayout.JAVA_BYTE, familyOff) & 0xFF;
                int len = family == 6 ? 16 : 4; // the datapath writes 4 or 6; an IPv4 address fills the first 4 octets
                byte[] s = new byte[len], d = new byte[len];
                java.lang.foreign.MemorySegment.copy(k, ValueLayout.JAVA_BYTE, sOff, s, 0, len);
                java.lang.foreign.MemorySegment.copy(k, ValueLayout.JAVA_BYTE, dOff, d, 0, len);
                out.add(pair(Cidr.formatAddress(s), Cidr.formatAddress(d)));
            });
        }
        return out;
    }

    static String pair(String a, String b) {
        return a.compareTo(b) <= 0 ? a + "|" + b : b + "|" + a;
    }
}
