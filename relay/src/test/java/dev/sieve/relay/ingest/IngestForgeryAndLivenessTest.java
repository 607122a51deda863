package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * F3/F12's sequence half and F6's relay half: one forged batch far above a node's mark changes nothing for the genuine
 * node (every genuine flow stored exactly once), and a batch whose handling throws ends the stream with an error
 * instead of leaving it silently open.
 */
@Timeout(60)
class IngestForgeryAndLivenessTest {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));
    RelayHarness relay;

    @AfterEach
    void stop() {
        if (relay != null) relay.close();
    }

    final class RawStream implements AutoCloseable {
        final LinkedBlockingQueue<BatchAck> acks = new LinkedBlockingQueue<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final ManagedChannel ch = relay.channel();
        final StreamObserver<FlowBatch> out = FlowIngestGrpc.newStub(ch).push(new StreamObserver<>() {
            public void onNext(BatchAck a) { acks.add(a); }
            public void onError(Throwable t) { error.set(t); }
            public void onCompleted() { }
        });

        BatchAck send(FlowBatch b) throws InterruptedException {
            out.onNext(b);
            BatchAck a = acks.poll(10, TimeUnit.SECONDS);
            assertThat(a).as("ack for " + b.getSequence() + " (" + error.get() + ")").isNotNull();
            return a;
        }

        @Override
        public void close() {
            ch.shutdownNow();
        }
    }

    static FlowBatch batch(String node, String epoch, long seq, long firstFlowSeq, List<Flow> flows) {
        return FlowBatch.newBuilder().setNodeName(node).setEpoch(epoch).setSequence(seq).setFirstFlowSeq(firstFlowSeq).addAllFlows(flows).build();
    }

    @Test
    void aForgedHugeSequenceBatchChangesNothingForTheGenuineNode() throws Exception {
        relay = new RelayHarness("relay-" + UUID.randomUUID(), new MemoryFlowStore(1_000_000));
        TestFlows genuine = new TestFlows(1, "node-a", START), forged = new TestFlows(2, "node-a", START);
        String epoch = "e-genuine";
        long seq = 1, flowSeq = 1;
        try (RawStream node = new RawStream(); RawStream attacker = new RawStream()) {
            for (int i = 0; i < 5; i++, seq++, flowSeq += 100)
                assertThat(node.send(batch("node-a", epoch, seq, flowSeq, genuine.next(100))).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            // the review's attack: sequence and first flow number 2^62 under the node's (node, epoch)
            BatchAck huge = attacker.send(batch("node-a", epoch, 1L << 62, 1L << 62, forged.next(10)));
            assertThat(huge.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            assertThat(huge.getError()).contains("above the stream's mark");
            // a sequence in the window, but flow numbers no batches could reach
            BatchAck farFlows = attacker.send(batch("node-a", epoch, seq + 1, 1L << 40, forged.next(10)));
            assertThat(farFlows.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            // malformed batches used to move the mark past their sequence too
            BatchAck malformed = attacker.send(batch("node-a", epoch, 1L << 50, 1L << 50, List.of(forged.next().toBuilder().clearTime().build())));
            assertThat(malformed.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            // above 2^63 (a uint64 on the wire): negative in Java
            assertThat(attacker.send(batch("node-a", epoch, -5, -5, forged.next(1))).getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            assertThat(relay.metrics.outOfWindow.get()).isEqualTo(4);
            for (int i = 0; i < 5; i++, seq++, flowSeq += 100) {
                BatchAck a = node.send(batch("node-a", epoch, seq, flowSeq, genuine.next(100)));
                assertThat(a.getStatus()).as("genuine batch %d after the forgeries", seq).isEqualTo(BatchAck.Status.STATUS_STORED);
            }
        }
        List<Flow> stored = relay.store.query(FlowQuery.all());
        assertThat(stored).hasSize(1000);
        Set<String> distinct = new HashSet<>();
        for (Flow f : stored) distinct.add(f.getUuid().isEmpty() ? f.toString() : f.getUuid());
        assertThat(distinct).as("each genuine flow once").hasSize(1000);
        assertThat(relay.nodes.nodes().get(0).flows()).isEqualTo(1000);
    }

    @Test
    void aSmallGapIsStillAccepted() throws Exception {
        relay = new RelayHarness("relay-" + UUID.randomUUID(), new MemoryFlowStore(1_000_000));
        TestFlows g = new TestFlows(3, "node-a", START);
        try (RawStream node = new RawStream()) {
            assertThat(node.send(batch("node-a", "e", 1, 1, g.next(10))).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            // the node's spool dropped batches 2..1000 (each up to the batch limit of flows)
            assertThat(node.send(batch("node-a", "e", 1001, 11 + 999L * 10_000, g.next(10))).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            // a stream without a mark (a memory relay restarted under a long-running node) takes any first batch
            assertThat(node.send(batch("node-a", "e-long", 5_000_000, 40_000_000, g.next(10))).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
        }
    }

    @Test
    void flowsStampedFarAheadOfTheRelaysClockAreRefusedAndAnOldLimitIsOptional() throws Exception {
        java.time.Clock clock = java.time.Clock.fixed(Instant.parse("2026-11-25T10:05:00Z"), java.time.ZoneOffset.UTC);
        try (MemoryFlowStore store = new MemoryFlowStore(10_000)) {
            var live = new LiveFlows(100);
            var nodes = new dev.sieve.relay.nodes.NodeRegistry(clock, Duration.ofSeconds(60));
            var p = new IngestProcessor(store, live, nodes, new dev.sieve.relay.metrics.RelayMetrics(),
                    new IngestProcessor.Limits(1000, 1 << 20, 1000, Duration.ofMinutes(10), Duration.ofDays(1)), clock);
            TestFlows now = new TestFlows(5, "node-a", START);
            assertThat(p.handle(batch("node-a", "e", 1, 1, now.next(5))).get().getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            TestFlows future = new TestFlows(6, "node-a", START + Duration.ofHours(2).toNanos());
            BatchAck ahead = p.handle(batch("node-a", "e", 2, 6, future.next(5))).get();
            assertThat(ahead.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            assertThat(ahead.getError()).contains("ahead of the relay's clock");
            TestFlows old = new TestFlows(7, "node-a", START - Duration.ofDays(3).toNanos());
            assertThat(p.handle(batch("node-a", "e", 3, 11, old.next(5))).get().getError()).contains("older than the relay keeps");
            assertThat(store.size()).isEqualTo(5);
        }
    }

    /** A store that throws from appendAsync the first {@code failures} times (an Arrow OutOfMemoryException, say). */
    static final class ThrowingStore implements FlowStore {
        final MemoryFlowStore inner = new MemoryFlowStore(100_000);
        final AtomicInteger failures;

        ThrowingStore(int failures) {
            this.failures = new AtomicInteger(failures);
        }

        @Override public CompletableFuture<Mark> appendAsync(Batch batch) {
            if (failures.getAndDecrement() > 0) throw new IllegalStateException("simulated failure inside the store");
            return inner.appendAsync(batch);
        }
        @Override public Mark mark(StreamKey key) { return inner.mark(key); }
        @Override public void query(FlowQuery q, Consumer<Flow> sink) throws dev.sieve.relay.store.StoreException { inner.query(q, sink); }
        @Override public List<Aggregates.Bucket> counts(Instant s, Instant u, Duration b, String ns) throws dev.sieve.relay.store.StoreException { return inner.counts(s, u, b, ns); }
        @Override public List<Aggregates.Edge> serviceMap(Instant s, Instant u, String ns) throws dev.sieve.relay.store.StoreException { return inner.serviceMap(s, u, ns); }
        @Override public List<Aggregates.PolicyUse> policies(Instant s, Instant u) throws dev.sieve.relay.store.StoreException { return inner.policies(s, u); }
        @Override public long size() throws dev.sieve.relay.store.StoreException { return inner.size(); }
        @Override public long capacity() { return inner.capacity(); }
        @Override public boolean ready() { return true; }
        @Override public String kind() { return "throwing"; }
        @Override public void close() { inner.close(); }
    }

    @Test
    void aBatchWhoseHandlingThrowsFailsTheStreamAndTheResendIsStoredOnce() throws Exception {
        relay = new RelayHarness("relay-" + UUID.randomUUID(), new ThrowingStore(1));
        TestFlows g = new TestFlows(4, "node-a", START);
        List<Flow> first = g.next(50), second = g.next(50);
        try (RawStream s = new RawStream()) {
            s.out.onNext(batch("node-a", "e", 1, 1, first));
            s.out.onNext(batch("node-a", "e", 2, 51, second));
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (s.error.get() == null && System.nanoTime() < end) Thread.sleep(20);
            assertThat(s.error.get()).as("the stream ends with an error, not silence").isNotNull();
            assertThat(Status.fromThrowable(s.error.get()).getCode()).isEqualTo(Status.Code.INTERNAL);
        }
        try (RawStream again = new RawStream()) { // the node reconnects and resends
            assertThat(again.send(batch("node-a", "e", 1, 1, first)).getStatus()).isIn(BatchAck.Status.STATUS_STORED, BatchAck.Status.STATUS_DUPLICATE);
            assertThat(again.send(batch("node-a", "e", 2, 51, second)).getStatus()).isIn(BatchAck.Status.STATUS_STORED, BatchAck.Status.STATUS_DUPLICATE);
        }
        assertThat(relay.store.size()).isEqualTo(100);
    }
}
