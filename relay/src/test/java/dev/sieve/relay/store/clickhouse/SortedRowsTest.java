package dev.sieve.relay.store.clickhouse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.TestFlows;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A group's rows come out as the flows table's ORDER BY sorts them, every row once. */
class SortedRowsTest {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));

    @Test
    void rowsComeOutInOrderByOrder() {
        // distinct seconds over five hours: one packed sort
        assertSorted(18_000, 3_000);
    }

    @Test
    void aGroupSpanningMonthsIsSortedToo() {
        // seconds over 100 days: too wide to pack with the nanos and the row, sorted by comparison
        assertSorted(8_640_000, 3_000);
    }

    @Test
    void rowsOfTheSameTimeKeepTheirOrder() {
        List<Flow> flows = new ArrayList<>();
        for (Flow f : new TestFlows(14, "node-a", START).next(200)) flows.add(f.toBuilder().setTime(Timestamps.timestamp(START + 5)).build());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        flows.forEach(f -> expected.writeBytes(FlowRowEncoder.row(f, true)));
        assertThat(SortedRows.sort(List.of(run(flows.subList(0, 100)), run(flows.subList(100, 200))))).isEqualTo(expected.toByteArray());
    }

    private static void assertSorted(long spreadSeconds, int count) {
        SplittableRandom rnd = new SplittableRandom(11);
        List<Flow> flows = new ArrayList<>();
        int i = 0;
        for (Flow f : new TestFlows(12, "node-a", START).next(count)) {
            long t = START + (i * 7919L % spreadSeconds) * 1_000_000_000L + rnd.nextInt(1_000_000_000);
            Flow.Builder b = f.toBuilder().setTime(Timestamps.timestamp(t));
            if (i % 50 == 0) b.clearSource();
            if (i % 70 == 0) b.setDestination(f.getDestination().toBuilder().setPodName(f.getDestination().getPodName() + "ü"));
            flows.add(b.build());
            i++;
        }
        List<SortedRows.Run> runs = new ArrayList<>();
        for (int from = 0; from < flows.size(); from += 1_000) runs.add(run(flows.subList(from, from + 1_000)));
        byte[] sorted = SortedRows.sort(runs);

        // the table's ORDER BY (time, nanos); the flows' times are distinct
        Comparator<Flow> orderBy = Comparator.<Flow>comparingLong(f -> f.getTime().getSeconds()).thenComparingInt(f -> f.getTime().getNanos());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        flows.stream().sorted(orderBy).forEach(f -> expected.writeBytes(FlowRowEncoder.row(f, true)));
        assertThat(sorted).isEqualTo(expected.toByteArray());
    }

    @Test
    void rowsAlreadyStoredAreLeftOut() {
        List<Flow> flows = new TestFlows(13, "node-a", START).next(10);
        SortedRows.Run r = run(flows);
        byte[] sorted = SortedRows.sort(List.of(new SortedRows.Run(r.buf(), r.offsets(), 4, 10)));
        assertThat(sorted).hasSize(r.offsets()[10] - r.offsets()[4]);
    }

    static SortedRows.Run run(List<Flow> flows) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int[] offsets = new int[flows.size() + 1];
        for (int i = 0; i < flows.size(); i++) {
            offsets[i] = buf.size();
            buf.writeBytes(FlowRowEncoder.row(flows.get(i), true));
        }
        offsets[flows.size()] = buf.size();
        return new SortedRows.Run(buf.toByteArray(), offsets, 0, flows.size());
    }
}
