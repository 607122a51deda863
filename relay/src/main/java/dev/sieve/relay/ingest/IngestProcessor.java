package dev.sieve.relay.ingest;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowBatchFrame;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.store.EncodedFlows;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.StreamOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Turns one FlowBatch (read as a {@link FlowBatchFrame}) into one BatchAck: validates it (REJECTED for malformed or oversized
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

  private BatchAck ack(FlowBatchFrame b, BatchAck.Status status, String error, long ackedThrough) {
    metrics.batch(status.name());
    return BatchAck.newBuilder().setSequence(b.getSequence()).setEpoch(b.getEpoch()).setStatus(status)
        .setError(error == null ? "" : error).setAckedThrough(ackedThrough).build();
  }

  /**
   * What ingest needs from a batch's flows, read from their bytes without parsing the rest: why the
   * batch is malformed (or null), whether a flow names no node, the namespaces the flows mention.
   */
  record Checked(String problem, boolean unnamedFlows, Set<ByteString> namespaces) {}

  Checked check(FlowBatchFrame b) {
    Set<ByteString> namespaces = new HashSet<>();
    if (b.getNodeName().isEmpty()) return new Checked("node_name is empty", false, namespaces);
    if (b.getEpoch().isEmpty()) return new Checked("epoch is empty", false, namespaces);
    if (b.getFlowsCount() > limits.maxBatchFlows())
      return new Checked("batch has " + b.getFlowsCount() + " flows, more than the limit of " + limits.maxBatchFlows(), false, namespaces);
    long size = b.getSerializedSize();
    if (size > limits.maxBatchBytes())
      return new Checked("batch is " + size + " bytes, more than the limit of " + limits.maxBatchBytes(), false, namespaces);
    if (b.getSequence() == 0 && b.getFlowsCount() > 0) return new Checked("sequence 0 is reserved for probes and must carry no flows", false, namespaces);
    boolean unnamed = false;
    FlowHeader h = new FlowHeader();
    for (int i = 0; i < b.getFlowsCount(); i++) {
      String why = h.read(b.getFlows(i), b.getNodeName(), namespaces);
      if (why != null) return new Checked("flows[" + i + "]: " + why, false, namespaces);
      unnamed |= h.node.isEmpty();
    }
    return new Checked(null, unnamed, namespaces);
  }

  /** An encoded flow's time, node name and endpoint namespaces. */
  private static final class FlowHeader {
    private static final int TIME = 1 << 3 | 2, SOURCE = 8 << 3 | 2, DESTINATION = 9 << 3 | 2, NODE_NAME = 11 << 3 | 2;
    boolean hasTime;
    long seconds, nanos;
    String node = "";

    /** Reads the header of one flow; returns what is wrong with it, or null. */
    String read(ByteString flow, String batchNode, Set<ByteString> namespaces) {
      hasTime = false;
      seconds = nanos = 0;
      node = "";
      try {
        CodedInputStream in = flow.newCodedInput();
        for (int tag; (tag = in.readTag()) != 0; ) {
          switch (tag) {
            case TIME -> {
              hasTime = true;
              int limit = in.pushLimit(in.readRawVarint32());
              for (int t; (t = in.readTag()) != 0; ) {
                if (t == 1 << 3) seconds = in.readInt64();
                else if (t == 2 << 3) nanos = in.readInt32();
                else in.skipField(t);
              }
              in.popLimit(limit);
            }
            case SOURCE, DESTINATION -> {
              int limit = in.pushLimit(in.readRawVarint32());
              for (int t; (t = in.readTag()) != 0; ) {
                if (t == (3 << 3 | 2)) namespaces.add(in.readBytes());
                else in.skipField(t);
              }
              in.popLimit(limit);
            }
            case NODE_NAME -> node = in.readStringRequireUtf8();
            default -> in.skipField(tag);
          }
        }
      } catch (java.io.IOException e) {
        return "not a valid flow.Flow: " + e.getMessage();
      }
      if (!hasTime) return "time is missing";
      if (nanos < 0 || nanos > 999_999_999 || seconds < 0 || seconds > 4_294_967_295L) return "time is out of range";
      if (!node.isEmpty() && !node.equals(batchNode) && !node.endsWith("/" + batchNode))
        return "node_name " + node + " differs from the batch's " + batchNode;
      return null;
    }
  }

  private static Throwable cause(Throwable err) {
    return err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
  }

  /** {@link #handle(FlowBatchFrame)} for a batch held as objects (tests, in-process callers). */
  public CompletableFuture<BatchAck> handle(FlowBatch b) {
    try {
      return handle(FlowBatchFrame.parseFrom(b.toByteString()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a FlowBatch is a FlowBatchFrame on the wire", e);
    }
  }

  public CompletableFuture<BatchAck> handle(FlowBatchFrame b) {
    long start = System.nanoTime();
    Checked checked = check(b);
    StreamKey key = new StreamKey(b.getNodeName(), b.getEpoch());
    if (checked.problem() != null) return reject(b, key, checked.problem());
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

    List<ByteString> encoded = b.getFlowsList();
    if (checked.unnamedFlows()) encoded = named(encoded, b.getNodeName());
    List<Flow> flows = new EncodedFlows(encoded);
    FlowStore.Batch batch = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), flows, 0, b.getLostFlows() > 0);
    List<Flow> fresh = flows.subList(FlowStore.alreadyStored(before, batch), flows.size());
    CompletableFuture<Mark> stored;
    try {
      stored = store.appendAsync(batch);
    } catch (EncodedFlows.MalformedFlowException e) {
      return reject(b, key, e.getMessage());
    }
    return stored.handle((mark, err) -> {
      if (err != null) {
        Throwable c = cause(err);
        if (c instanceof StreamOrder.OutOfOrderException) return ack(b, BatchAck.Status.STATUS_RETRY, c.getMessage(), 0);
        metrics.storeErrors.incrementAndGet();
        return ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + c.getMessage(), 0);
      }
      long createdMs = b.hasCreated() ? b.getCreated().getSeconds() * 1000 + b.getCreated().getNanos() / 1_000_000 : 0;
      nodes.batch(b.getNodeName(), b.getEpoch(), fresh.size(), b.getLostFlows(), createdMs);
      for (ByteString ns : checked.namespaces()) nodes.namespace(ns.toStringUtf8());
      metrics.stored(fresh.size(), System.nanoTime() - start);
      try {
        live.publish(fresh);
      } catch (EncodedFlows.MalformedFlowException e) {
        // stored from its bytes, but a parser refuses it deeper down: followers cannot be shown it
      }
      if (b.getLostFlows() > 0) live.publishLost(b.getLostFlows());
      return ack(b, BatchAck.Status.STATUS_STORED, null, mark.sequence());
    });
  }

  /** REJECTED; the stream's mark moves past the batch (it will never be stored), so later batches are in order. */
  private CompletableFuture<BatchAck> reject(FlowBatchFrame b, StreamKey key, String why) {
    nodes.rejected(b.getNodeName());
    if (b.getNodeName().isEmpty() || b.getEpoch().isEmpty() || b.getSequence() == 0)
      return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_REJECTED, why, 0));
    FlowStore.Batch skip = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), List.of(), b.getFlowsCount(), b.getLostFlows() > 0);
    return store.appendAsync(skip).handle((mark, err) -> {
      if (err == null) return ack(b, BatchAck.Status.STATUS_REJECTED, why, mark.sequence());
      return ack(b, BatchAck.Status.STATUS_RETRY, "not stored yet: " + cause(err).getMessage(), 0);
    });
  }

  /** Flows that name no node get the batch's (the node a flow was seen on is what a store keys by). */
  private static List<ByteString> named(List<ByteString> encoded, String node) {
    List<ByteString> out = new ArrayList<>(encoded.size());
    for (ByteString f : encoded) {
      try {
        Flow flow = Flow.parseFrom(f);
        out.add(flow.getNodeName().isEmpty() ? flow.toBuilder().setNodeName(node).build().toByteString() : f);
      } catch (InvalidProtocolBufferException e) {
        out.add(f); // the store's parse rejects it
      }
    }
    return out;
  }
}
