package dev.sieve.relay.observer;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import java.util.Comparator;
import java.util.HashSet;
import java.util.PriorityQueue;
import java.util.List;
import java.util.Set;

/**
 * GetFlows for every front end (gRPC, REST, SSE): the stored flows that match, oldest first, then —
 * with follow — the live flows from the ingest path. The subscription opens before the store is
 * read, so nothing stored in between is missed; flows already sent from the store are skipped.
 */
public final class FlowService {
    public interface Sink {
        /** false = stop. */
        boolean flow(Flow f) throws InterruptedException;

        default boolean lost(long n, boolean atNode) throws InterruptedException {
            return true;
        }

        default boolean cancelled() {
            return false;
        }
    }

    private static final class Stop extends RuntimeException {
        Stop() {
            super(null, null, false, false);
        }
    }

    private record Held(long time, long seq, long arrived, Flow flow) {}

    private final FlowStore store;
    private final LiveFlows live;
    private final long sortWindowNanos;
    private final int sortBufferMax;
    private final long maxFlows;

    /** What one query may return when nothing else is configured (the memory store's default capacity). */
    public static final long DEFAULT_MAX_FLOWS = 1_000_000;

    public FlowService(FlowStore store, LiveFlows live) {
        this(store, live, java.time.Duration.ofMillis(500), 10_000, DEFAULT_MAX_FLOWS);
    }

    public FlowService(FlowStore store, LiveFlows live, long maxFlows) {
        this(store, live, java.time.Duration.ofMillis(500), 10_000, maxFlows);
    }

    public FlowService(FlowStore store, LiveFlows live, java.time.Duration sortWindow, int sortBufferMax) {
        this(store, live, sortWindow, sortBufferMax, DEFAULT_MAX_FLOWS);
    }

    /**
     * {@code sortWindow}: how long a live flow is held to be merged by time with other nodes' flows. {@code maxFlows}:
     * the most flows one query returns from the store (F7): a larger first/last N is refused, and an unbounded query
     * (--all, or a time range alone) is read oldest first and ends with an error once more than that many match.
     */
    public FlowService(FlowStore store, LiveFlows live, java.time.Duration sortWindow, int sortBufferMax, long maxFlows) {
        this.store = store;
        this.live = live;
        this.sortWindowNanos = sortWindow.toNanos();
        this.sortBufferMax = sortBufferMax;
        this.maxFlows = Math.max(1, maxFlows);
    }

    public void stream(FlowQuery q, Sink sink) throws StoreException, InterruptedException {
        try (LiveFlows.Subscription sub = subscribe(q)) {
            stream(q, sub, sink);
        }
    }

    /**
     * The live subscription of a follow query (null without follow). Taking it before a front end answers
     * (the SSE response's headers, which a browser reports as "open") means every flow stored from then on
     * reaches the follower; the caller closes it.
     */
    public LiveFlows.Subscription subscribe(FlowQuery q) {
        return q.follow() ? live.subscribe(q.matcher()) : null;
    }

    public long maxFlows() {
        return maxFlows;
    }

    /**
     * The query the store is asked: a first/last N above the limit is refused; an unbounded one becomes "the first
     * limit+1" (one more than may be returned, to tell that the limit was passed: {@link #tooMany}).
     */
    public FlowQuery bounded(FlowQuery q) {
        if (q.number() == Long.MAX_VALUE && q.follow()) return q.since() == null ? q : q.withNumber(maxFlows + 1, true);
        if (q.number() > maxFlows)
            throw new InvalidQueryException("asked for " + q.number() + " flows, more than the relay returns for one query ("
                    + maxFlows + ", sieve.relay.query.max-flows): ask for fewer, or page with --since/--until");
        if (q.number() == 0 && (!q.follow() || q.since() != null)) return q.withNumber(maxFlows + 1, true);
        return q;
    }

    public InvalidQueryException tooMany() {
        return new InvalidQueryException("more than " + maxFlows + " flows match (sieve.relay.query.max-flows); the first " + maxFlows
                + " were returned: narrow the time range (--since/--until) or the filters, or page from the last flow's time");
    }

    /** {@code sub}: from {@link #subscribe(FlowQuery)} for this query; not closed here. */
    public void stream(FlowQuery asked, LiveFlows.Subscription sub, Sink sink) throws StoreException, InterruptedException {
        FlowQuery q = bounded(asked);
        boolean capped = q.number() != asked.number();
        if (!q.follow()) {
            long[] sent = {0};
            try {
                store.query(q, f -> {
                    try {
                        if (capped && ++sent[0] > maxFlows) throw tooMany();
                        if (!sink.flow(f)) throw new Stop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new Stop();
                    }
                });
            } catch (Stop stop) {
                // the reader went away
            }
            return;
        }
        if (sub == null) throw new IllegalArgumentException("a follow query needs its live subscription");
        long until = q.untilNanos();
        {
            // history: the last N (or everything since `since`); none when neither is given (Hubble: follow alone = live only)
            List<Flow> history = q.number() > 0 || q.since() != null ? store.query(q.withFollow(false)) : List.of();
            if (capped && history.size() > maxFlows) throw tooMany();
            Set<Flow> sent = new HashSet<>();
            long lastTime = Long.MIN_VALUE;
            for (Flow f : history) {
                if (!sink.flow(f)) return;
                lastTime = Math.max(lastTime, Timestamps.nanos(f));
            }
            // keep the tail of history to recognise live copies of flows already sent
            for (int i = history.size() - 1; i >= 0 && sent.size() < 100_000; i--) sent.add(history.get(i));
            // live flows of several nodes arrive interleaved: like Hubble Relay, hold each for a short
            // sort window and emit in time order (the window also bounds how late a flow may be shown)
            PriorityQueue<Held> buf = new PriorityQueue<>(Comparator.comparingLong(Held::time).thenComparingLong(Held::seq));
            long seq = 0;
            while (!sink.cancelled()) {
                LiveFlows.Item it = sub.poll(buf.isEmpty() ? 250 : 20);
                if (it instanceof LiveFlows.FlowItem fi) {
                    Flow f = fi.flow();
                    long t = Timestamps.nanos(f);
                    boolean already = t <= lastTime && sent.remove(f);
                    if (t >= q.sinceNanos() && !already) buf.add(new Held(t, seq++, System.nanoTime(), f));
                } else if (it instanceof LiveFlows.Lost l) {
                    if (!sink.lost(l.count(), l.atNode())) return;
                }
                long now = System.nanoTime();
                while (!buf.isEmpty() && (buf.size() > sortBufferMax || now - buf.peek().arrived() >= sortWindowNanos)) {
                    Held h = buf.poll();
                    if (h.time() > until) return;
                    if (!sink.flow(h.flow())) return;
                }
            }
        }
    }
}
