package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.StreamOrder;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.TestFlows;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A batch the store failed holds back later batches of its stream until it is resent, so nothing is acknowledged out of order. */
class IngestOrderTest {
    /** A memory store that fails the next append(s) on demand, keeping stream order as a failing store must. */
    static final class FlakyStore implements FlowStore {
        final MemoryFlowStore inner = new MemoryFlowStore(10_000);
        final StreamOrder order = new StreamOrder();
        int failNext;
        volatile boolean markDown;

        @Override
        public synchronized CompletableFuture<Mark> appendAsync(Batch b) {
            if (failNext > 0) {
                failNext--;
                order.failed(b.key(), b.sequence());
                return CompletableFuture.failedFuture(new StoreException("store down"));
            }
            String refusal = order.refusal(b.key(), inner.mark(b.key()), b.sequence());
            if (refusal != null) return CompletableFuture.failedFuture(new StreamOrder.OutOfOrderException(refusal));
            return inner.appendAsync(b).thenApply(m -> {
                order.stored(b.key(), m);
                return m;
            });
        }

        @Override public void notStored(StreamKey key, long sequence) { order.failed(key, sequence); }
        @Override
        public Mark mark(StreamKey key) throws StoreException {
            if (markDown) throw new StoreException("store unreachable");
            return inner.mark(key);
        }
        @Override public void query(FlowQuery q, Consumer<Flow> sink) throws StoreException { inner.query(q, sink); }
        @Override public List<Aggregates.Bucket> counts(Instant s, Instant u, Duration b, String ns) { return inner.counts(s, u, b, ns); }
        @Override public List<Aggregates.Edge> serviceMap(Instant s, Instant u, String ns) { return inner.serviceMap(s, u, ns); }
        @Override public List<Aggregates.PolicyUse> policies(Instant s, Instant u) { return inner.policies(s, u); }
        @Override public long size() { return inner.size(); }
        @Override public long capacity() { return inner.capacity(); }
        @Override public boolean ready() { return true; }
        @Override public String kind() { return "flaky"; }
        @Override public void close() { inner.close(); }
    }

    IngestProcessor processor(FlowStore store) {
        return new IngestProcessor(store, new LiveFlows(10), new NodeRegistry(Clock.systemUTC(), Duration.ofSeconds(60)),
                new RelayMetrics(), new IngestProcessor.Limits(1000, 1 << 20));
    }

    static List<FlowBatch> batches(int n) {
        TestFlows g = new TestFlows(1, "n", Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z")));
        List<FlowBatch> bs = new java.util.ArrayList<>();
        bs.add(null); // bs.get(i) is batch i
        for (int i = 1; i <= n; i++)
            bs.add(FlowBatch.newBuilder().setNodeName("n").setEpoch("e").setSequence(i).setFirstFlowSeq((i - 1) * 10L + 1).addAllFlows(g.next(10)).build());
        return bs;
    }

    BatchAck.Status status(IngestProcessor p, FlowBatch b) throws Exception {
        return p.handle(b).get().getStatus();
    }

    @Test
    void laterBatchesWaitForAFailedOneThenGoThroughInOrder() throws Exception {
        FlakyStore store = new FlakyStore();
        IngestProcessor p = processor(store);
        List<FlowBatch> bs = batches(4);
        assertThat(status(p, bs.get(1))).isEqualTo(BatchAck.Status.STATUS_STORED);
        store.failNext = 1;
        assertThat(status(p, bs.get(2))).isEqualTo(BatchAck.Status.STATUS_RETRY);
        BatchAck third = p.handle(bs.get(3)).get(); // store is fine again, but batch 2 is missing
        assertThat(third.getStatus()).isEqualTo(BatchAck.Status.STATUS_RETRY);
        assertThat(third.getError()).contains("batch 3").contains("follows batch 2").contains("resend in order");
        assertThat(status(p, bs.get(2))).isEqualTo(BatchAck.Status.STATUS_STORED);
        assertThat(p.handle(bs.get(3)).get().getAckedThrough()).isEqualTo(3);
        assertThat(p.handle(bs.get(4)).get().getAckedThrough()).isEqualTo(4);
        assertThat(store.size()).isEqualTo(40);
        store.close();
    }

    /**
     * Several batches failed; the first is back, but a new batch arrives before the others are resent.
     * Storing it would move the mark past the missing ones and their resends would be answered
     * DUPLICATE — flows acknowledged and never stored (what a ClickHouse restart mid-stream did).
     */
    @Test
    void everyFailedBatchIsBackBeforeALaterOneIsStored() throws Exception {
        FlakyStore store = new FlakyStore();
        IngestProcessor p = processor(store);
        List<FlowBatch> bs = batches(6);
        assertThat(status(p, bs.get(1))).isEqualTo(BatchAck.Status.STATUS_STORED);
        store.failNext = 3;
        for (int i = 2; i <= 4; i++) assertThat(status(p, bs.get(i))).isEqualTo(BatchAck.Status.STATUS_RETRY);
        assertThat(status(p, bs.get(2))).isEqualTo(BatchAck.Status.STATUS_STORED); // the resend starts
        assertThat(status(p, bs.get(5))).as("new batch while 3 and 4 are still coming").isEqualTo(BatchAck.Status.STATUS_RETRY);
        for (int i = 3; i <= 5; i++) assertThat(status(p, bs.get(i))).isEqualTo(BatchAck.Status.STATUS_STORED);
        assertThat(status(p, bs.get(6))).isEqualTo(BatchAck.Status.STATUS_STORED);
        assertThat(store.size()).isEqualTo(60);
        store.close();
    }

    /** A store whose mark cannot be read answers RETRY before the batch reaches it; the store still learns of the failure. */
    @Test
    void aBatchRefusedBeforeTheStoreHoldsLaterOnes() throws Exception {
        FlakyStore store = new FlakyStore();
        IngestProcessor p = processor(store);
        List<FlowBatch> bs = batches(3);
        assertThat(status(p, bs.get(1))).isEqualTo(BatchAck.Status.STATUS_STORED);
        store.markDown = true;
        assertThat(status(p, bs.get(2))).isEqualTo(BatchAck.Status.STATUS_RETRY);
        store.markDown = false;
        assertThat(status(p, bs.get(3))).isEqualTo(BatchAck.Status.STATUS_RETRY);
        assertThat(status(p, bs.get(2))).isEqualTo(BatchAck.Status.STATUS_STORED);
        assertThat(status(p, bs.get(3))).isEqualTo(BatchAck.Status.STATUS_STORED);
        assertThat(store.size()).isEqualTo(30);
        store.close();
    }
}
