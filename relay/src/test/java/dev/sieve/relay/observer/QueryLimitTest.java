package dev.sieve.relay.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.TestFlows;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** F7: one query returns at most the configured number of flows, with a clear error past it. */
class QueryLimitTest {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));

    static List<Flow> run(FlowService s, FlowQuery q) throws Exception {
        List<Flow> out = new ArrayList<>();
        s.stream(q, f -> out.add(f));
        return out;
    }

    @Test
    void lastNAboveTheLimitIsRefusedAndUnboundedQueriesStopPastIt() throws Exception {
        try (MemoryFlowStore store = new MemoryFlowStore(10_000)) {
            store.append(new FlowStore.StreamKey("node-a", "e"), 1, 1, new TestFlows(1, "node-a", START).next(50));
            FlowService s = new FlowService(store, new LiveFlows(100), 20);
            assertThat(run(s, FlowQuery.last(20))).hasSize(20);
            assertThatThrownBy(() -> run(s, FlowQuery.last(21))).isInstanceOf(InvalidQueryException.class).hasMessageContaining("more than the relay returns");
            List<Flow> partial = new ArrayList<>();
            assertThatThrownBy(() -> s.stream(FlowQuery.all(), partial::add)).isInstanceOf(InvalidQueryException.class)
                    .hasMessageContaining("more than 20 flows match");
            assertThat(partial).as("the first 20, oldest first").hasSize(20);
            assertThatThrownBy(() -> run(s, FlowQuery.all().withRange(Instant.parse("2026-11-25T09:00:00Z"), null)))
                    .isInstanceOf(InvalidQueryException.class);
            FlowService roomy = new FlowService(store, new LiveFlows(100), 50);
            assertThat(run(roomy, FlowQuery.all())).hasSize(50);
        }
    }
}
