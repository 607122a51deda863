package dev.sieve.relay.observer;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.query.FlowMatcher;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import java.util.HashSet;
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

  private final FlowStore store;
  private final LiveFlows live;

  public FlowService(FlowStore store, LiveFlows live) {
    this.store = store;
    this.live = live;
  }

  public void stream(FlowQuery q, Sink sink) throws StoreException, InterruptedException {
    if (!q.follow()) {
      try {
        store.query(q, f -> {
          try {
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
    FlowMatcher m = FlowMatcher.of(q);
    long until = q.untilNanos();
    try (LiveFlows.Subscription sub = live.subscribe(m)) {
      // history: the last N (or everything since `since`); none when neither is given (Hubble: follow alone = live only)
      List<Flow> history = q.number() > 0 || q.since() != null ? store.query(q.withFollow(false)) : List.of();
      Set<Flow> sent = new HashSet<>();
      long lastTime = Long.MIN_VALUE;
      for (Flow f : history) {
        if (!sink.flow(f)) return;
        lastTime = Math.max(lastTime, Timestamps.nanos(f));
      }
      // keep the tail of history to recognise live copies of flows already sent
      for (int i = history.size() - 1; i >= 0 && sent.size() < 100_000; i--) sent.add(history.get(i));
      while (!sink.cancelled()) {
        LiveFlows.Item it = sub.poll(250);
        if (it == null) continue;
        switch (it) {
          case LiveFlows.FlowItem fi -> {
            Flow f = fi.flow();
            long t = Timestamps.nanos(f);
            if (t < q.sinceNanos()) continue;
            if (t > until) return;
            if (t <= lastTime && sent.remove(f)) continue;
            if (!sink.flow(f)) return;
          }
          case LiveFlows.Lost l -> {
            if (!sink.lost(l.count(), l.atNode())) return;
          }
        }
      }
    }
  }
}
