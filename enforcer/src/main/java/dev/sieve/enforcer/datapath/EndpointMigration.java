package dev.sieve.enforcer.datapath;

import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.BpfMap;
import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.enforcer.libbpf.PinnedMap;
import dev.sieve.enforcer.maps.MapLayouts;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Carries the endpoints of the previous layout (v1: 16-byte {@code endpoint_info} without the
 * pod's addresses) into {@code sieve_endpoints_v2}, so an upgraded agent's programs enforce each
 * endpoint from the first packet. They carry no addresses, so their source check is off until
 * the agent's first sync writes them. Pins of the v1 maps (and of the v2 metrics) are removed.
 */
final class EndpointMigration {
    static final String ENDPOINTS_V1 = "sieve_endpoints";
    static final List<String> RETIRED = List.of(ENDPOINTS_V1, "sieve_ep_array", "sieve_metrics_v2");
    private static final int V1_VALUE_SIZE = 16;

    private EndpointMigration() {}

    static int migrate(Path pinDir, BpfMap endpoints) {
        Path v1 = pinDir.resolve(ENDPOINTS_V1);
        int[] copied = {0};
        if (Files.exists(v1)) {
            try (PinnedMap old = PinnedMap.open(v1); Arena a = Arena.ofConfined()) {
                MemorySegment v = a.allocate(MapLayouts.ENDPOINT_INFO);
                old.forEach(4, V1_VALUE_SIZE, (key, value) -> {
                    v.fill((byte) 0);
                    MemorySegment.copy(value, 0, v, 0, V1_VALUE_SIZE); // same first 16 bytes, flags 0
                    try {
                        endpoints.update(key, v, LibBpf.BPF_NOEXIST); // one the new agent wrote wins
                        copied[0]++;
                    } catch (BpfException e) {
                        // exists already, or the map is full: the next sync writes it
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
}
