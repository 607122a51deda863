package dev.sieve.enforcer.events;

import dev.sieve.enforcer.libbpf.RingBuffer;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads verdict events from the datapath's ring buffer. {@link #poll(int)} hands each event to
 * the handler as a reused {@link VerdictEventView} (no allocation per event); call it from one
 * thread. Records of an unexpected size are counted and skipped, never decoded.
 */
public final class VerdictEventReader implements AutoCloseable {
    /** Receives events; the view is only valid during the call. */
    @FunctionalInterface
    public interface Handler {
        void onEvent(VerdictEventView event);
    }

    private final RingBuffer ring;
    private final VerdictEventView view = new VerdictEventView();
    private final Handler handler;
    private final AtomicLong events = new AtomicLong();
    private final AtomicLong malformed = new AtomicLong();

    public VerdictEventReader(int ringBufferFd, Handler handler) {
        this.handler = handler;
        this.ring = new RingBuffer("sieve_events", ringBufferFd, this::onRecord);
    }

    private void onRecord(MemorySegment data) {
        if (data.byteSize() < VerdictEventView.SIZE) {
            malformed.incrementAndGet();
            return;
        }
        events.lazySet(events.get() + 1);
        handler.onEvent(view.wrap(data));
    }

    /**
     * Waits up to {@code timeoutMs}, then handles every event that is there; returns how many. The
     * datapath does not wake the reader per event (only once an eighth of the ring is waiting), so
     * the timeout is also the longest an event waits: call this in a loop with a short timeout.
     */
    public int poll(int timeoutMs) {
        int woken = ring.poll(timeoutMs);
        return Math.max(woken, 0) + Math.max(ring.consume(), 0);
    }

    /** Handles what is there now without waiting. */
    public int drain() {
        return ring.consume();
    }

    public long eventsRead() {
        return events.get();
    }

    public long malformedRecords() {
        return malformed.get();
    }

    @Override
    public void close() {
        ring.close();
    }
}
