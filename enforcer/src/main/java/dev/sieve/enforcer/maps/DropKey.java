package dev.sieve.enforcer.maps;

/**
 * What a counter of the datapath's drop array counts: a drop reason (Hubble numbering; 0xffff for a reason without
 * a slot of its own) and an L4 protocol number (0: other). {@link #slot()} mirrors {@code drop_slot()} in
 * {@code bpf/include/sieve_maps.h}; every dropped packet is counted, whether or not an event reported it.
 */
public record DropKey(int dropReason, int protocol) {
    /** Entries of the drop array ({@code SIEVE_DROP_SLOTS}). */
    public static final int SLOTS = 128;
    private static final int[] PROTOCOLS = {0, 6, 17, 132, 1, 58};

    public int slot() {
        int pi = 0;
        for (int i = 1; i < PROTOCOLS.length; i++) {
            if (PROTOCOLS[i] == protocol) pi = i;
        }
        return (MetricsKey.reasonIndex(dropReason) * 8 + pi) & (SLOTS - 1);
    }

    /** The key counted at {@code slot}, or null for a slot the datapath never uses. */
    public static DropKey ofSlot(int slot) {
        int reason = MetricsKey.reasonAt(slot / 8);
        int pi = slot % 8;
        if (reason <= 0 || pi >= PROTOCOLS.length) return null;
        return new DropKey(reason, PROTOCOLS[pi]);
    }
}
