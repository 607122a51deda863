package dev.sieve.enforcer.datapath;

import dev.sieve.enforcer.netns.NetNs;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where the datapath pins its maps ({@code pinRoot/prefix/<map>}), the network namespace whose
 * interfaces it attaches to, the ring buffer size, the initial event aggregation level and how
 * packets between two pods of this node are delivered.
 */
public record DatapathConfig(Path pinRoot, String prefix, NetNs netns, int ringBufferBytes, AggregationLevel aggregation,
                             LocalDelivery localDelivery, MapSizes mapSizes) {
    public static final Path DEFAULT_PIN_ROOT = Path.of("/sys/fs/bpf/sieve");
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public DatapathConfig {
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("datapath prefix must match " + PREFIX + ": '" + prefix + "'");
        }
        if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
            throw new IllegalArgumentException("ring buffer size must be a power of two >= 4096: " + ringBufferBytes);
        }
        if (mapSizes == null) {
            mapSizes = MapSizes.DEFAULT;
        }
    }

    /** Defaults: /sys/fs/bpf/sieve/&lt;prefix&gt;, this process's namespace, 4 MiB ring, MEDIUM aggregation, stack delivery. */
    public static DatapathConfig of(String prefix) {
        return new DatapathConfig(DEFAULT_PIN_ROOT, prefix, NetNs.current(), 1 << 22, AggregationLevel.MEDIUM, LocalDelivery.BPF, MapSizes.DEFAULT);
    }

    public DatapathConfig withNetns(NetNs ns) {
        return new DatapathConfig(pinRoot, prefix, ns, ringBufferBytes, aggregation, localDelivery, mapSizes);
    }

    public DatapathConfig withRingBufferBytes(int bytes) {
        return new DatapathConfig(pinRoot, prefix, netns, bytes, aggregation, localDelivery, mapSizes);
    }

    public DatapathConfig withAggregation(AggregationLevel level) {
        return new DatapathConfig(pinRoot, prefix, netns, ringBufferBytes, level, localDelivery, mapSizes);
    }

    public DatapathConfig withLocalDelivery(LocalDelivery delivery) {
        return new DatapathConfig(pinRoot, prefix, netns, ringBufferBytes, aggregation, delivery, mapSizes);
    }

    /** Capacities of the conntrack, policy, ipcache and endpoint maps (for maps not pinned yet). */
    public DatapathConfig withMapSizes(MapSizes sizes) {
        return new DatapathConfig(pinRoot, prefix, netns, ringBufferBytes, aggregation, localDelivery, sizes);
    }

    public Path pinDir() {
        return pinRoot.resolve(prefix);
    }

    /** The node's state that cannot be pinned (the L7 proxy's ports): {@code /run/sieve/<prefix>}, gone at reboot like the pins. */
    public Path stateDir() {
        return STATE_ROOT.resolve(prefix);
    }

    public static final Path STATE_ROOT = Path.of("/run/sieve");
}
