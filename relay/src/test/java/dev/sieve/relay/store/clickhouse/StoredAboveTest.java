package dev.sieve.relay.store.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.store.FlowStore.Batch;
import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Which rows of a resent batch a writer stores, given what ClickHouse holds above the stream's mark. */
@Timeout(10)
class StoredAboveTest {
    static final StreamKey K = new StreamKey("n", "e");
    static final byte[] BUF = new byte[0];
    static final int[] OFFSETS = new int[11];

    static Batch batch(long sequence, long firstFlowSeq, int n) {
        return new Batch(K, sequence, firstFlowSeq, dev.sieve.relay.store.EncodedBatch.of(Collections.nCopies(n, Flow.getDefaultInstance())), 0, false);
    }

    /** The rows (indexes in the batch) addMissing picks. */
    static List<Integer> missing(StoredAbove held, Batch b, int skip) {
        List<SortedRows.Run> runs = new ArrayList<>();
        int added = held.addMissing(runs, BUF, OFFSETS, b, skip);
        List<Integer> rows = new ArrayList<>();
        for (SortedRows.Run r : runs) {
            assertThat(r.to()).isGreaterThan(r.from());
            for (int i = r.from(); i < r.to(); i++) rows.add(i);
        }
        assertThat(added).isEqualTo(rows.size());
        return rows;
    }

    @Test
    void positionsHeldAreLeftOutStretchByStretch() {
        // a batch at positions 101..110; ClickHouse holds 101, 104, 105, 110 (and some of other batches), given unsorted with a repeat
        StoredAbove held = StoredAbove.of(new long[] {110, 104, 95, 101, 105, 104, 120, 0}, 7, Map.of());
        assertThat(missing(held, batch(3, 101, 10), 0)).containsExactly(1, 2, 5, 6, 7, 8);
        assertThat(missing(held, batch(3, 101, 10), 4)).containsExactly(5, 6, 7, 8);
        assertThat(missing(held, batch(3, 101, 10), 10)).isEmpty();
        assertThat(missing(held, batch(4, 111, 5), 0)).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void whatTheMarkPassesIsDropped() {
        StoredAbove held = StoredAbove.of(new long[] {104, 110}, 2, Map.of(7L, 3L));
        StoredAbove after = held.passed(new Mark(5, 105));
        assertThat(after).isSameAs(held);
        assertThat(missing(after, batch(3, 101, 10), 0)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(held.passed(new Mark(6, 110))).as("positions passed, batch 7 without positions still held").isSameAs(held);
        assertThat(held.passed(new Mark(7, 110))).isSameAs(StoredAbove.NONE);
        assertThat(StoredAbove.NONE.passed(new Mark(9, 200))).isSameAs(StoredAbove.NONE);
        assertThat(StoredAbove.of(new long[0], 0, Map.of())).isSameAs(StoredAbove.NONE);
    }

    @Test
    void aBatchWithoutPositionsIsLeftOutOnlyWhenAllItsRowsAreHeld() {
        StoredAbove held = StoredAbove.of(new long[0], 0, Map.of(2L, 10L, 3L, 4L));
        assertThat(missing(held, batch(2, 0, 10), 0)).as("complete, never marked").isEmpty();
        assertThat(missing(held, batch(3, 0, 10), 0)).as("cut short: stored whole again").hasSize(10);
        assertThat(held.unpositionedRows(3)).isEqualTo(4);
        assertThat(missing(held, batch(4, 0, 10), 0)).hasSize(10);
        assertThat(missing(StoredAbove.NONE, batch(4, 0, 10), 0)).hasSize(10);
    }
}
