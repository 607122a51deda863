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
  /** A memory store that fails the next append(s) on demand. */
  static final class FlakyStore implements FlowStore {
    final MemoryFlowStore inner = new MemoryFlowStore(10_000);
    int failNext;

    @Override
    public CompletableFuture<Mark> appendAsync(Batch b) {
      if (failNext > 0) {
        failNext--;
        return CompletableFuture.failedFuture(new StoreException("store down"));
      }
      return inner.appendAsync(b);
    }

    @Override public Mark mark(StreamKey key) { return inner.mark(key); }
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

  @Test
  void laterBatchesWaitForAFailedOneThenGoThroughInOrder() throws Exception {
    FlakyStore store = new FlakyStore();
    IngestProcessor p = new IngestProcessor(store, new LiveFlows(10), new NodeRegistry(Clock.systemUTC(), Duration.ofSeconds(60)),
        new RelayMetrics(), new IngestProcessor.Limits(1000, 1 << 20));
    TestFlows g = new TestFlows(1, "n", Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z")));
    List<FlowBatch> bs = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) bs.add(FlowBatch.newBuilder().setNodeName("n").setEpoch("e").setSequence(i + 1).setFirstFlowSeq(i * 10L + 1).addAllFlows(g.next(10)).build());
    assertThat(p.handle(bs.get(0)).get().getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
    store.failNext = 1;
    assertThat(p.handle(bs.get(1)).get().getStatus()).isEqualTo(BatchAck.Status.STATUS_RETRY);
    BatchAck third = p.handle(bs.get(2)).get(); // store is fine again, but batch 2 is missing
    assertThat(third.getStatus()).isEqualTo(BatchAck.Status.STATUS_RETRY);
    assertThat(third.getError()).contains("batch 2").contains("resend in order");
    assertThat(p.handle(bs.get(1)).get().getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
    assertThat(p.handle(bs.get(2)).get().getAckedThrough()).isEqualTo(3);
    assertThat(p.handle(bs.get(3)).get().getAckedThrough()).isEqualTo(4);
    assertThat(store.size()).isEqualTo(40);
    store.close();
  }
}
