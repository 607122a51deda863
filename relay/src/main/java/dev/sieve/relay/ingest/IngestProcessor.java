package dev.sieve.relay.ingest;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Turns one FlowBatch into one BatchAck: validates it (REJECTED for malformed or oversized
 * batches), answers probes and resends from the store's marks (DUPLICATE), stores the rest and
 * acknowledges only once the store holds it (STORED), or asks for a resend (RETRY) when the store
 * fails. Newly stored flows go to live followers.
 */
public final class IngestProcessor {
  public record Limits(int maxBatchFlows, long maxBatchBytes) {}

  private final FlowStore store;
  private final LiveFlows live;
  private final NodeRegistry nodes;
  private final RelayMetrics metrics;
  private final Limits limits;
  public IngestProcessor(FlowStore store, LiveFlows live, NodeRegistry nodes, RelayMetrics metrics, Limits limits) {
    this.store = store;
    this.live = live;
    this.nodes = nodes;
    this.metrics = metrics;
    this.limits = limits;
  }

  public FlowStore store() {
    return store;
  }

  private BatchAck ack(FlowBatch b, BatchAck.Status status, String error, long ackedThrough) {
    metrics.batch(status.name());
    return BatchAck.newBuilder().setSequence(b.getSequence()).setEpoch(b.getEpoch()).setStatus(status)
        .setError(error == null ? "" : error).setAckedThrough(ackedThrough).build();
  }

  /** Why a batch is malformed, or null. */
  String invalid(FlowBatch b) {
    if (b.getNodeName().isEmpty()) return "node_name is empty";
    if (b.getEpoch().isEmpty()) return "epoch is empty";
    if (b.getFlowsCount() > limits.maxBatchFlows())
      return "batch has " + b.getFlowsCount() + " flows, more than the limit of " + limits.maxBatchFlows();
    long size = b.getSerializedSize();
    if (size > limits.maxBatchBytes()) return "batch is " + size + " bytes, more than the limit of " + limits.maxBatchBytes();
    if (b.getSequence() == 0 && b.getFlowsCount() > 0) return "sequence 0 is reserved for probes and must carry no flows";
    for (int i = 0; i < b.getFlowsCount(); i++) {
      Flow f = b.getFlows(i);
      if (!f.hasTime()) return "flows[" + i + "]: time is missing";
      if (f.getTime().getNanos() < 0 || f.getTime().getNanos() > 999_999_999 || f.getTime().getSeconds() < 0 || f.getTime().getSeconds() > 4_294_967_295L)
        return "flows[" + i + "]: time is out of range";
      if (!f.getNodeName().isEmpty() && !f.getNodeName().equals(b.getNodeName()) && !f.getNodeName().endsWith("/" + b.getNodeName()))
        return "flows[" + i + "]: node_name " + f.getNodeName() + " differs from the batch's " + b.getNodeName();
    }
    return null;
  }

  private static Throwable cause(Throwable err) {
    return err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
  }

  public CompletableFuture<BatchAck> handle(FlowBatch b) {
    long start = System.nanoTime();
    String why = invalid(b);
    StreamKey key = new StreamKey(b.getNodeName(), b.getEpoch());
    if (why != null) {
      nodes.rejected(b.getNodeName());
      if (b.getNodeName().isEmpty() || b.getEpoch().isEmpty() || b.getSequence() == 0)
        return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_REJECTED, why, 0));
      // the stream's mark moves past a rejected batch (it will never be stored), so later batches are in order
      FlowStore.Batch skip = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), List.of(), b.getFlowsCount(), b.getLostFlows() > 0);
      return store.appendAsync(skip).handle((mark, err) -> {
        if (err == null) return ack(b, BatchAck.Status.STATUS_REJECTED, why, mark.sequence());
        return ack(b, BatchAck.Status.STATUS_RETRY, "not stored yet: " + cause(err).getMessage(), 0);
      });
    }
    Mark before;
    try {
      before = store.mark(key);
    } catch (StoreException e) {
      metrics.storeErrors.incrementAndGet();
      store.notStored(key, b.getSequence());
      return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + e.getMessage(), 0));
    }
    if (b.getSequence() == 0) return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_STORED, null, before.sequence()));
    long lastFlowSeq = b.getFirstFlowSeq() > 0 ? b.getFirstFlowSeq() + b.getFlowsCount() - 1 : 0;
    boolean dup = b.getSequence() <= before.sequence() && (b.getFirstFlowSeq() == 0 || lastFlowSeq <= before.flowSeq());
    if (dup) return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_DUPLICATE, null, before.sequence()));

    List<Flow> flows = b.getFlowsList();
    if (flows.stream().anyMatch(f -> f.getNodeName().isEmpty())) {
      List<Flow> named = new ArrayList<>(flows.size());
      for (Flow f : flows) named.add(f.getNodeName().isEmpty() ? f.toBuilder().setNodeName(b.getNodeName()).build() : f);
      flows = named;
    }
    FlowStore.Batch batch = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), flows, 0, b.getLostFlows() > 0);
    List<Flow> fresh = flows.subList(FlowStore.alreadyStored(before, batch), flows.size());
    return store.appendAsync(batch).handle((mark, err) -> {
      if (err != null) {
        Throwable c = cause(err);
        if (c.getMessage() != null && c.getMessage().contains("resend in order")) return ack(b, BatchAck.Status.STATUS_RETRY, c.getMessage(), 0);
        metrics.storeErrors.incrementAndGet();
        return ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + c.getMessage(), 0);
      }
      long createdMs = b.hasCreated() ? b.getCreated().getSeconds() * 1000 + b.getCreated().getNanos() / 1_000_000 : 0;
      nodes.batch(b.getNodeName(), b.getEpoch(), fresh.size(), b.getLostFlows(), createdMs);
      for (Flow f : fresh) {
        nodes.namespace(f.getSource().getNamespace());
        nodes.namespace(f.getDestination().getNamespace());
      }
      metrics.stored(fresh.size(), System.nanoTime() - start);
      live.publish(fresh);
      if (b.getLostFlows() > 0) live.publishLost(b.getLostFlows());
      return ack(b, BatchAck.Status.STATUS_STORED, null, mark.sequence());
    });
  }
}
