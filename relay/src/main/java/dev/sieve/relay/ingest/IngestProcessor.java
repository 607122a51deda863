package dev.sieve.relay.ingest;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowBatchFrame;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.store.EncodedBatch;
import dev.sieve.relay.store.FlowColumns;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.StreamOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
    /**
     * {@code maxSequenceGap}: how far above a stream's mark a batch's sequence may be (a node's sequences only skip
     * batches its spool dropped). A batch beyond it, or whose first flow number is further above the mark than that many
     * full batches could reach, is REJECTED without moving the mark: one forged batch cannot make a node's later genuine
     * batches DUPLICATE (or their flows "already stored"). A stream the store holds no mark for takes any first
     * sequence (a memory relay restarted under long-running nodes); mTLS ingest, which binds a node to its name, is what
     * keeps others off a node's streams.
     */
    public record Limits(int maxBatchFlows, long maxBatchBytes, long maxSequenceGap, java.time.Duration maxFutureSkew, java.time.Duration maxAge) {
        public Limits(int maxBatchFlows, long maxBatchBytes) {
            this(maxBatchFlows, maxBatchBytes, DEFAULT_MAX_SEQUENCE_GAP);
        }

        public Limits(int maxBatchFlows, long maxBatchBytes, long maxSequenceGap) {
            this(maxBatchFlows, maxBatchBytes, maxSequenceGap, DEFAULT_MAX_FUTURE_SKEW, DEFAULT_MAX_AGE);
        }
    }

    /**
     * F12, the rule for flow times: a batch with a flow stamped more than {@code maxFutureSkew} ahead of the relay's clock,
     * or older than {@code maxAge} (zero: no lower bound, the default; retention removes old rows), is REJECTED whole (such a flow would sort before or after everything, land in a
     * partition retention drops at once, or never expire): the node's clock is wrong, and the batch is counted as
     * rejected on both sides.
     */
    public static final java.time.Duration DEFAULT_MAX_FUTURE_SKEW = java.time.Duration.ofMinutes(10);
    public static final java.time.Duration DEFAULT_MAX_AGE = java.time.Duration.ZERO;

    public static final long DEFAULT_MAX_SEQUENCE_GAP = 100_000;

    private final FlowStore store;
    private final LiveFlows live;
    private final NodeRegistry nodes;
    private final RelayMetrics metrics;
    private final Limits limits;
    private final java.time.Clock clock;

    public IngestProcessor(FlowStore store, LiveFlows live, NodeRegistry nodes, RelayMetrics metrics, Limits limits) {
        this(store, live, nodes, metrics, limits, java.time.Clock.systemUTC());
    }

    public IngestProcessor(FlowStore store, LiveFlows live, NodeRegistry nodes, RelayMetrics metrics, Limits limits, java.time.Clock clock) {
        this.clock = clock;
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

    /** Why a batch is refused as a whole (before any flow is read), or null. */
    String check(FlowBatchFrame b) {
        if (b.getNodeName().isEmpty()) return "node_name is empty";
        if (b.getEpoch().isEmpty()) return "epoch is empty";
        if (b.getFlowsCount() > limits.maxBatchFlows())
            return "batch has " + b.getFlowsCount() + " flows, more than the limit of " + limits.maxBatchFlows();
        long size = b.getSerializedSize();
        if (size > limits.maxBatchBytes()) return "batch is " + size + " bytes, more than the limit of " + limits.maxBatchBytes();
        if (b.getSequence() == 0 && b.getFlowsCount() > 0) return "sequence 0 is reserved for probes and must carry no flows";
        return null;
    }

    /**
     * What ingest checks of each flow (time, node name) and gathers (namespaces), run by the store as it
     * reads the flow's columns: each flow is read once on its way in. A flow that names no node stops
     * the read ({@link Unnamed}): the batch's name is written into such flows, and the batch read again.
     */
    final class Checks implements EncodedBatch.FlowCheck {
        final Set<String> namespaces = new HashSet<>();
        private final List<byte[]> seen = new ArrayList<>();
        private final String node;
        private final byte[] nodeBytes;
        private final boolean named;
        private final long nowSeconds = clock.millis() / 1000;

        Checks(String node, boolean named) {
            this.node = node;
            this.nodeBytes = node.getBytes(StandardCharsets.UTF_8);
            this.named = named;
        }

        @Override
        public String problem(int i, FlowColumns c) {
            String why = checkFlow(c, node, nodeBytes);
            if (why == null) why = checkTime(c, nowSeconds);
            if (why != null) return why;
            if (c.length(FlowColumns.NODE_NAME) == 0 && !named) throw Unnamed.INSTANCE;
            synchronized (this) { // a store may read a batch's flows on two threads
                namespace(c, FlowColumns.SRC_NAMESPACE, seen, namespaces);
                namespace(c, FlowColumns.DST_NAMESPACE, seen, namespaces);
            }
            return null;
        }
    }

    /** A flow of the batch names no node. */
    static final class Unnamed extends RuntimeException {
        static final Unnamed INSTANCE = new Unnamed();

        private Unnamed() {
            super(null, null, false, false);
        }
    }

    /** What is wrong with one flow's time or node name, or null. */
    private static String checkFlow(FlowColumns c, String batchNode, byte[] batchNodeBytes) {
        if (!c.hasTime()) return "time is missing";
        if (c.nanos() < 0 || c.nanos() > 999_999_999 || c.seconds() < 0 || c.seconds() > 4_294_967_295L) return "time is out of range";
        int off = c.offset(FlowColumns.NODE_NAME), n = c.length(FlowColumns.NODE_NAME);
        if (n == 0 || Arrays.equals(c.bytes(), off, off + n, batchNodeBytes, 0, batchNodeBytes.length)) return null;
        String node = c.string(FlowColumns.NODE_NAME);
        if (!node.endsWith("/" + batchNode)) return "node_name " + node + " differs from the batch's " + batchNode;
        return null;
    }

    /** What is wrong with a flow's time against the relay's clock, or null. */
    private String checkTime(FlowColumns c, long nowSeconds) {
        long t = c.seconds();
        if (t > nowSeconds + limits.maxFutureSkew().toSeconds())
            return "time " + java.time.Instant.ofEpochSecond(t) + " is " + (t - nowSeconds) + " s ahead of the relay's clock (at most "
                    + limits.maxFutureSkew().toSeconds() + " s allowed): the node's clock is wrong";
        if (!limits.maxAge().isZero() && t < nowSeconds - limits.maxAge().toSeconds())
            return "time " + java.time.Instant.ofEpochSecond(t) + " is older than the relay keeps (" + limits.maxAge().toDays() + " days)";
        return null;
    }

    /** Adds a flow's namespace to the batch's (a batch names few: compared as bytes, a string made once each). */
    private static void namespace(FlowColumns c, int slot, List<byte[]> seen, Set<String> out) {
        int off = c.offset(slot), n = c.length(slot);
        if (n == 0) return;
        for (byte[] s : seen) if (Arrays.equals(c.bytes(), off, off + n, s, 0, s.length)) return;
        seen.add(Arrays.copyOfRange(c.bytes(), off, off + n));
        out.add(c.string(slot));
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
        return handle(b, false);
    }

    /**
     * @param firstOfStream the first batch of its (node, epoch) on this Push stream: the stream's mark is read again
     *     from the store, not from this relay's memory (F13: a node that moved to another relay and back has batches
     *     stored there that this relay never saw; with a stale mark it would store their resends twice)
     */
    public CompletableFuture<BatchAck> handle(FlowBatchFrame b, boolean firstOfStream) {
        long start = System.nanoTime();
        String problem = check(b);
        StreamKey key = new StreamKey(b.getNodeName(), b.getEpoch());
        if (problem != null) return reject(b, key, problem);
        Mark before;
        try {
            before = firstOfStream ? store.reloadMark(key) : store.mark(key);
        } catch (StoreException e) {
            metrics.storeErrors.incrementAndGet();
            store.notStored(key, b.getSequence());
            return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + e.getMessage(), 0));
        }
        if (b.getSequence() == 0) return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_STORED, null, before.sequence()));
        String far = beyondWindow(b, before);
        if (far != null) {
            nodes.rejected(b.getNodeName());
            metrics.outOfWindow.incrementAndGet();
            return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_REJECTED, far, before.sequence()));
        }
        long lastFlowSeq = b.getFirstFlowSeq() > 0 ? b.getFirstFlowSeq() + b.getFlowsCount() - 1 : 0;
        boolean dup = b.getSequence() <= before.sequence() && (b.getFirstFlowSeq() == 0 || lastFlowSeq <= before.flowSeq());
        if (dup) return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_DUPLICATE, null, before.sequence()));

        Checks checked = new Checks(b.getNodeName(), false);
        EncodedBatch flows = new EncodedBatch(b.getFlowsList(), checked);
        FlowStore.Batch batch = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), flows, 0, b.getLostFlows() > 0);
        CompletableFuture<Mark> stored;
        try {
            try {
                stored = store.appendAsync(batch);
            } catch (Unnamed e) {
                checked = new Checks(b.getNodeName(), true);
                flows = new EncodedBatch(named(b.getFlowsList(), b.getNodeName()), checked);
                batch = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), flows, 0, b.getLostFlows() > 0);
                stored = store.appendAsync(batch);
            }
        } catch (EncodedBatch.MalformedFlowException e) {
            return reject(b, key, e.getMessage());
        }
        int firstFresh = FlowStore.alreadyStored(before, batch), freshCount = flows.size() - firstFresh;
        EncodedBatch storedFlows = flows;
        Set<String> namespaces = checked.namespaces;
        return stored.handle((mark, err) -> {
            if (err != null) {
                Throwable c = cause(err);
                if (c instanceof StreamOrder.OutOfOrderException) return ack(b, BatchAck.Status.STATUS_RETRY, c.getMessage(), 0);
                metrics.storeErrors.incrementAndGet();
                return ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + c.getMessage(), 0);
            }
            BatchAck storedAck = ack(b, BatchAck.Status.STATUS_STORED, null, mark.sequence());
            try {
                long createdMs = b.hasCreated() ? b.getCreated().getSeconds() * 1000 + b.getCreated().getNanos() / 1_000_000 : 0;
                nodes.batch(b.getNodeName(), b.getEpoch(), freshCount, b.getLostFlows(), createdMs);
                for (String ns : namespaces) nodes.namespace(ns);
                metrics.stored(freshCount, System.nanoTime() - start);
            } catch (RuntimeException e) {
                // bookkeeping only: the batch is stored and is acknowledged as such
            }
            try {
                live.publish(storedFlows.flows(firstFresh));
            } catch (EncodedBatch.MalformedFlowException e) {
                // stored from its bytes, but a parser refuses it deeper down: followers cannot be shown it
            } catch (RuntimeException | StackOverflowError e) {
                // a follower's failure never costs the node its ack: the batch is stored
            }
            try {
                if (b.getLostFlows() > 0) live.publishLost(b.getLostFlows());
            } catch (RuntimeException e) {
                // as above: followers' trouble is not the node's
            }
            return storedAck;
        });
    }

    /** Why a batch lies beyond what the stream's next batches can reach from its mark, or null. */
    private String beyondWindow(FlowBatchFrame b, Mark m) {
        if (b.getSequence() < 0 || b.getFirstFlowSeq() < 0) return "sequence or first_flow_seq above 2^63";
        // a stream without a mark (new, or the memory store restarted under a long-running node) takes any first batch
        if (m.sequence() == 0 && m.flowSeq() == 0) return null;
        long gap = b.getSequence() - m.sequence();
        if (gap > limits.maxSequenceGap())
            return "sequence " + b.getSequence() + " is more than " + limits.maxSequenceGap() + " above the stream's mark " + m.sequence();
        if (b.getFirstFlowSeq() > 0 && gap > 0) {
            long reach = m.flowSeq() + gap * limits.maxBatchFlows() + 1; // gap <= maxSequenceGap: no overflow
            if (b.getFirstFlowSeq() > reach)
                return "first_flow_seq " + b.getFirstFlowSeq() + " is beyond what " + gap + " batches can reach from the stream's mark " + m.flowSeq();
        }
        return null;
    }

    /** REJECTED; the stream's mark moves past the batch (it will never be stored), so later batches are in order. */
    private CompletableFuture<BatchAck> reject(FlowBatchFrame b, StreamKey key, String why) {
        nodes.rejected(b.getNodeName());
        if (b.getNodeName().isEmpty() || b.getEpoch().isEmpty() || b.getSequence() == 0)
            return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_REJECTED, why, 0));
        try {
            Mark m = store.mark(key);
            if (beyondWindow(b, m) != null) {
                metrics.outOfWindow.incrementAndGet();
                return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_REJECTED, why, m.sequence())); // the mark stays
            }
        } catch (StoreException e) {
            metrics.storeErrors.incrementAndGet();
            return CompletableFuture.completedFuture(ack(b, BatchAck.Status.STATUS_RETRY, "store unavailable: " + e.getMessage(), 0));
        }
        FlowStore.Batch skip = new FlowStore.Batch(key, b.getSequence(), b.getFirstFlowSeq(), EncodedBatch.EMPTY, b.getFlowsCount(), b.getLostFlows() > 0);
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
