package dev.sieve.enforcer.maps;

/**
 * What a per-CPU metrics counter counts: verdict (Hubble numbering), direction, drop reason (0 if
 * none). The key (verdict 0, no direction, reason 0) counts verdict events lost because the ring
 * buffer was full. The map is an array; {@link #slot()} mirrors {@code metrics_slot()} in
 * {@code bpf/include/sieve_maps.h}.
 */
public record MetricsKey(int verdict, Direction direction, int dropReason) {
    public static final MetricsKey LOST_EVENTS = new MetricsKey(0, null, 0);
    /** Drop events not reported because the same connection's drop was reported less than a second ago (F19). */
    public static final MetricsKey SUPPRESSED_DROP_EVENTS = new MetricsKey(0, Direction.INGRESS, 0);
    /** Entries of the metrics array ({@code SIEVE_METRICS_SLOTS}). */
    public static final int SLOTS = 512;
    /** The drop reasons with a slot of their own, by index; index 15 counts any other reason. */
    static final int[] REASONS = {0, 132, 133, 134, 135, 155, 156, 181, 203, 178, 179, 180};
    private static final int REASON_SLOTS = 16;
    private static final int OTHER_REASON = REASON_SLOTS - 1;

    /** The index of a drop reason ({@code reason_index()} in the header); 15 for any other. */
    static int reasonIndex(int dropReason) {
        for (int i = 0; i < REASONS.length; i++) {
            if (REASONS[i] == dropReason) {
                return i;
            }
        }
        return OTHER_REASON;
    }

    /** The drop reason counted at a reason index; 0xffff for "any other", -1 for an unused index. */
    static int reasonAt(int index) {
        return index < REASONS.length ? REASONS[index] : index == OTHER_REASON ? 0xffff : -1;
    }

    /** The array index the datapath counts this key at. */
    public int slot() {
        int r = reasonIndex(dropReason);
        int dir = direction == null ? 0 : direction.code();
        return (((verdict & 7) * 4 + (dir & 3)) * REASON_SLOTS + r) & (SLOTS - 1);
    }

    /**
     * The key counted at array index {@code slot}, or null for a slot the datapath never uses.
     * The last index of the reasons ("other") reads back as reason 0xffff.
     */
    public static MetricsKey ofSlot(int slot) {
        int verdict = slot / (4 * REASON_SLOTS);
        int dir = (slot / REASON_SLOTS) % 4;
        int r = slot % REASON_SLOTS;
        if (dir == 3 || (r >= REASONS.length && r != OTHER_REASON)) {
            return null;
        }
        return new MetricsKey(verdict, dir == 0 ? null : Direction.of(dir), r < REASONS.length ? REASONS[r] : 0xffff);
    }
}
