package dev.sieve.relay.store;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FlowQuery;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Where the relay keeps flows. One interface, one query model ({@link FlowQuery}); the live
 * part of {@code follow} is not the store's job (it is served from the ingest path).
 *
 * <p>Ingest contract: {@link #append} returns only once the flows and the node's new
 * high-water mark are held by the store (durably, for a durable store). Flows whose
 * {@code flow_seq} is at or below the stored high-water mark of their (node, epoch) are
 * skipped, so a resend after a crash between the two writes stores nothing twice; a store whose
 * failed write can leave part of a batch behind also skips the flows it holds above the mark
 * (ClickHouse: {@code StoredAbove}).
 */
public interface FlowStore extends AutoCloseable {

    /** Identity of the stream a batch belongs to. */
    record StreamKey(String node, String epoch) {}

    /** What the store holds for one (node, epoch): last stored batch sequence and last stored flow position. */
    record Mark(long sequence, long flowSeq) {
        public static final Mark NONE = new Mark(0, 0);
    }

    /**
     * One batch for the store: {@code flows} (encoded, as they arrived) at positions firstFlowSeq, firstFlowSeq+1, ... (0 =
     * positions unknown) as batch {@code sequence} of {@code key}. A rejected batch carries no flows
     * but {@code rejectedFlows}: the mark moves past it, since it will never be stored.
     * {@code allowGap}: the node declared discarded flows ({@code lost_flows > 0}); informational.
     */
    record Batch(StreamKey key, long sequence, long firstFlowSeq, EncodedBatch flows, int rejectedFlows, boolean allowGap) {
        public long lastFlowSeq() {
            int n = flows.isEmpty() ? rejectedFlows : flows.size();
            return firstFlowSeq > 0 ? firstFlowSeq + n - 1 : 0;
        }
    }

    /**
     * Stores a batch; completes with the stream's new mark once held, or exceptionally with a
     * {@link StoreException}. A sequence gap is accepted (the node sends its spool in order, so what
     * is missing before the first batch of a connection was stored or discarded by the node) — except
     * after a failure: a store that can fail keeps each stream in order with a {@link StreamOrder}, so
     * a later batch is never stored ahead of an earlier one that is still coming (it would move the
     * mark past it and the resend would be answered DUPLICATE).
     */
    CompletableFuture<Mark> appendAsync(Batch batch);

    default CompletableFuture<Mark> appendAsync(StreamKey key, long sequence, long firstFlowSeq, List<Flow> flows) {
        return appendAsync(new Batch(key, sequence, firstFlowSeq, EncodedBatch.of(flows), 0, false));
    }

    /**
     * Batch {@code sequence} of the stream was answered RETRY before it reached the store (its mark
     * could not be read): a store that keeps stream order must hold later batches until it is back.
     */
    default void notStored(StreamKey key, long sequence) {}

    /** The mark after storing {@code b} on top of {@code m}. */
    static Mark after(Mark m, Batch b) {
        long last = b.firstFlowSeq() > 0 ? b.lastFlowSeq() : m.flowSeq();
        return new Mark(Math.max(m.sequence(), b.sequence()), Math.max(m.flowSeq(), last));
    }

    /** The higher of two marks of one stream (each position at its maximum). */
    static Mark higher(Mark a, Mark b) {
        return new Mark(Math.max(a.sequence(), b.sequence()), Math.max(a.flowSeq(), b.flowSeq()));
    }

    /** How many of {@code b}'s flows are already stored according to {@code m}. */
    static int alreadyStored(Mark m, Batch b) {
        if (b.firstFlowSeq() > 0) return (int) Math.max(0, Math.min(b.flows().size(), m.flowSeq() - b.firstFlowSeq() + 1));
        return b.sequence() > 0 && b.sequence() <= m.sequence() ? b.flows().size() : 0;
    }

    /** {@link #appendAsync}, waiting. */
    default Mark append(StreamKey key, long sequence, long firstFlowSeq, List<Flow> flows) throws StoreException {
        try {
            return appendAsync(key, sequence, firstFlowSeq, flows).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StoreException se) throw se;
            throw new StoreException("append failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted", e);
        }
    }

    /** The high-water mark the store holds for a stream ({@link Mark#NONE} if none). */
    Mark mark(StreamKey key) throws StoreException;

    /**
     * The stream's mark read again from where it is kept, not from what this process remembers: another relay on the
     * same store may have stored the stream's batches since (a node that moved between relays, F13). Ingest calls it
     * on the first batch of every Push stream. A store no other process writes returns {@link #mark}.
     */
    default Mark reloadMark(StreamKey key) throws StoreException {
        return mark(key);
    }

    /** Stored flows matching {@code q} (follow ignored), oldest first, at most {@code q.number()} when non-zero. */
    void query(FlowQuery q, Consumer<Flow> sink) throws StoreException;

    default List<Flow> query(FlowQuery q) throws StoreException {
        List<Flow> out = new java.util.ArrayList<>();
        query(q, out::add);
        return out;
    }

    /** Number of flows matching per time bucket, split by verdict. */
    List<Aggregates.Bucket> counts(Instant since, Instant until, Duration bucket, String namespace) throws StoreException;

    /** Service map edges (source workload -> destination workload) with counts by verdict. */
    List<Aggregates.Edge> serviceMap(Instant since, Instant until, String namespace) throws StoreException;

    /** Policies named in flows, with counts by verdict. */
    List<Aggregates.PolicyUse> policies(Instant since, Instant until) throws StoreException;

    /** Flows currently held. */
    long size() throws StoreException;

    /** Most flows held (memory ring capacity), 0 = unbounded. */
    long capacity();

    /** Drops data older than the retention; returns what was removed (partitions, chunks). */
    default List<String> enforceRetention(Instant now) throws StoreException {
        return List.of();
    }

    /** True when the store can take writes and answer queries right now. */
    boolean ready();

    String kind();

    @Override
    void close();
}
