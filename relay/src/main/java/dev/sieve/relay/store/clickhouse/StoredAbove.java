package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.store.FlowStore.Batch;
import dev.sieve.relay.store.FlowStore.Mark;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What ClickHouse holds of one stream above its mark: rows of a flows insert that was cut short
 * (ClickHouse 18.16 commits the complete rows of a body that ends early, and rows go in table-key
 * order, so any subset of a group) or that completed without the marks insert after it. A writer
 * loads it with the stream's mark, stores only flows not in here, and drops what the mark passes,
 * so each flow is inserted once and the materialized views count it once.
 *
 * <p>Flows with positions are known by {@code flow_seq} (a sorted {@code long[]}: at most the rows
 * of the inserts that failed since the last mark). A batch without positions ({@code flow_seq} 0)
 * is known only by how many of its rows are there: all of them means it is stored; fewer means an
 * insert was cut inside it, and which of its flows are missing cannot be told, so it is stored
 * whole again (those rows then twice: nothing is lost, some rows are duplicated).
 */
final class StoredAbove {
    static final StoredAbove NONE = new StoredAbove(new long[0], Map.of());

    /** Sorted, distinct flow positions; those before {@link #from} are at or below the mark. */
    private final long[] flowSeqs;
    private int from;
    /** Batch sequence to rows held of that batch, for batches without positions. */
    private final Map<Long, Long> unpositioned;

    private StoredAbove(long[] flowSeqs, Map<Long, Long> unpositioned) {
        this.flowSeqs = flowSeqs;
        this.unpositioned = unpositioned;
    }

    /** Builds it from the first {@code n} of {@code flowSeqs} (any order, repeats allowed) and rows per unpositioned batch. */
    static StoredAbove of(long[] flowSeqs, int n, Map<Long, Long> unpositioned) {
        if (n == 0 && unpositioned.isEmpty()) return NONE;
        long[] s = Arrays.copyOf(flowSeqs, n);
        Arrays.sort(s);
        int d = 0;
        for (int i = 0; i < n; i++) if (d == 0 || s[i] != s[d - 1]) s[d++] = s[i];
        return new StoredAbove(d == n ? s : Arrays.copyOf(s, d), new HashMap<>(unpositioned));
    }

    boolean isEmpty() {
        return from == flowSeqs.length && unpositioned.isEmpty();
    }

    /** Rows held of batch {@code sequence} without positions (0 if none). */
    long unpositionedRows(long sequence) {
        return unpositioned.getOrDefault(sequence, 0L);
    }

    /**
     * Adds to {@code out} the rows {@code skip} to the end of batch {@code b} (encoded in {@code buf},
     * row i at {@code offsets[i]}) that ClickHouse does not hold: for a batch with positions one run per
     * stretch of positions not held; a batch without positions whole unless every row of it is held.
     * Returns how many rows it added.
     */
    int addMissing(List<SortedRows.Run> out, byte[] buf, int[] offsets, Batch b, int skip) {
        int size = b.flows().size();
        if (skip >= size) return 0;
        if (b.firstFlowSeq() == 0) {
            if (unpositionedRows(b.sequence()) >= size) return 0;
            out.add(new SortedRows.Run(buf, offsets, skip, size));
            return size - skip;
        }
        long first = b.firstFlowSeq();
        int j = lowerBound(first + skip), added = 0;
        for (int i = skip; i < size; ) {
            if (j < flowSeqs.length && flowSeqs[j] == first + i) { // held: skip it
                i++;
                j++;
                continue;
            }
            int end = j < flowSeqs.length ? (int) Math.min(size, flowSeqs[j] - first) : size;
            out.add(new SortedRows.Run(buf, offsets, i, end));
            added += end - i;
            i = end;
        }
        return added;
    }

    /** This after the stream's mark moved to {@code m}: what the mark passed is dropped ({@link #NONE} once nothing is left). */
    StoredAbove passed(Mark m) {
        if (this == NONE) return NONE;
        from = lowerBound(m.flowSeq() + 1);
        unpositioned.keySet().removeIf(seq -> seq <= m.sequence());
        return isEmpty() ? NONE : this;
    }

    /** The index of the first held position at or above {@code pos} (from {@link #from} on). */
    private int lowerBound(long pos) {
        int i = Arrays.binarySearch(flowSeqs, from, flowSeqs.length, pos);
        return i >= 0 ? i : -i - 1;
    }
}
