package dev.sieve.enforcer.events;

import dev.sieve.enforcer.libbpf.RingBuffer;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

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

    /**
     * One ring-buffer record to the handler: a record too short, or whose family or direction is none the datapath
     * writes, is counted as malformed and skipped; a handler that throws is counted and logged, and the records after it
     * are still read (an exception out of the ring buffer's callback would end the poll and cost its other events).
     */
    public static final class Decoder {
        private final VerdictEventView view = new VerdictEventView();
        private final Handler handler;
        private final AtomicLong events = new AtomicLong();
        private final AtomicLong malformed = new AtomicLong();
        private final AtomicLong handlerErrors = new AtomicLong();

        public Decoder(Handler handler) {
            this.handler = handler;
        }

        public void onRecord(MemorySegment data) {
            if (data.byteSize() < VerdictEventView.SIZE || view.wrap(data).problem() != null) {
                malformed.incrementAndGet();
                return;
            }
            events.lazySet(events.get() + 1);
            try {
                handler.onEvent(view);
            } catch (RuntimeException e) {
                if (handlerErrors.getAndIncrement() == 0)
                    LOG.log(Level.WARNING, "a verdict event could not be handled (later ones are only counted)", e);
            }
        }

        public long eventsRead() {
            return events.get();
        }

        public long malformedRecords() {
            return malformed.get();
        }

        public long handlerErrors() {
            return handlerErrors.get();
        }
    }

    private static final Logger LOG = Logger.getLogger(VerdictEventReader.class.getName());

    private final RingBuffer ring;
    private final Decoder decoder;

    public VerdictEventReader(int ringBufferFd, Handler handler) {
        this.decoder = new Decoder(handler);
        this.ring = new RingBuffer("sieve_events", ringBufferFd, decoder::onRecord);
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
        return decoder.eventsRead();
    }

    public long malformedRecords() {
        return decoder.malformedRecords();
    }

    @Override
    public void close() {
        ring.close();
    }
}
