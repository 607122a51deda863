package dev.sieve.relay.store;

import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Keeps a stream's batches in sequence order once one of them failed.
 *
 * <p>Normally a store takes a batch even when sequences before it are missing: the node sends its
 * spool in order, so what is missing was stored earlier or discarded by the node and never comes.
 * After batch n failed that no longer holds — the node will send n again, and a later batch stored
 * first would move the stream's mark past n, so n would be answered DUPLICATE and lost. So after a
 * failure a batch is taken only if it directly follows the stream's mark, until the mark reaches
 * the highest sequence that failed (a refused batch counts as failed: it is coming again too).
 *
 * <p>A gap still there {@link #HOLD} after the stream's last store failure is accepted: the node
 * discarded those batches (spool full) and they will not come.
 */
public final class StreamOrder {
    public static final Duration HOLD = Duration.ofSeconds(30);

    /** A batch refused for coming ahead of an earlier one that failed: the node resends in order (not a store error). */
    public static final class OutOfOrderException extends StoreException {
        public OutOfOrderException(String message) {
            super(message);
        }
    }

    private record Hold(long highestFailed, long lastFailureNanos) {}

    private final ConcurrentHashMap<StreamKey, Hold> holds = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final long holdNanos;

    public StreamOrder() {
        this(System::nanoTime, HOLD);
    }

    StreamOrder(LongSupplier nanoTime, Duration hold) {
        this.nanoTime = nanoTime;
        this.holdNanos = hold.toNanos();
    }

    /** Batch {@code sequence} of the stream was not stored (it will be resent). */
    public void failed(StreamKey key, long sequence) {
        if (sequence <= 0) return; // a probe carries nothing
        long now = nanoTime.getAsLong();
        holds.merge(key, new Hold(sequence, now), (a, b) -> new Hold(Math.max(a.highestFailed(), sequence), now));
    }

    /**
     * Why batch {@code sequence} must not be stored on top of {@code mark} now, or null when it may.
     * A refused batch raises the stream's highest failed sequence (the node resends it) but does not
     * restart the hold's clock.
     */
    public String refusal(StreamKey key, Mark mark, long sequence) {
        Hold h = holds.get(key);
        if (h == null || sequence <= mark.sequence() + 1) return null;
        if (nanoTime.getAsLong() - h.lastFailureNanos() > holdNanos) {
            holds.remove(key, h);
            return null;
        }
        holds.computeIfPresent(key, (k, x) -> x.highestFailed() >= sequence ? x : new Hold(sequence, x.lastFailureNanos()));
        return "batch " + sequence + " of " + key.node() + "/" + key.epoch() + " follows batch " + (mark.sequence() + 1)
                + ", not stored since a failure; resend in order";
    }

    /** The stream's mark moved to {@code mark}: once past every failed batch the stream is in order again. */
    public void stored(StreamKey key, Mark mark) {
        holds.computeIfPresent(key, (k, h) -> mark.sequence() >= h.highestFailed() ? null : h);
    }

    /** Whether later batches of the stream are being held back (tests, status). */
    public boolean holding(StreamKey key) {
        return holds.containsKey(key);
    }
}
