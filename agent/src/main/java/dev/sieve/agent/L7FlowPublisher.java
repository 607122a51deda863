package dev.sieve.agent;

import dev.sieve.proxy.L7Event;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Takes the proxies' events off their I/O threads: a proxy thread only queues the event (bounded; it never waits),
 * one thread turns them into flows in batches (enrichment, flow ring, metrics, relay), so a request never waits for
 * the engine's lock or the ring's. While events come, the thread naps a millisecond between batches rather than
 * being woken for each (a wake-up is a system call on both sides, per DNS query twice); after 20 ms without one it
 * sleeps until the next event wakes it. A full queue loses the event; losses are reported as
 * Hubble's lost events (source OBSERVER_EVENTS_QUEUE).
 */
final class L7FlowPublisher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(L7FlowPublisher.class.getName());
    static final int CAPACITY = 65_536;
    private static final int BATCH = 512;
    /** While events come, the thread naps this long between batches instead of being woken per event. */
    private static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Naps without an event before it sleeps until woken (then the next event wakes it). */
    private static final int IDLE_NAPS = 20;

    private final ArrayBlockingQueue<L7Event> queue;
    private final Consumer<L7Event> publish;
    private final LongConsumer lostReporter;
    private final AtomicLong lost = new AtomicLong();
    private final Thread thread;
    private volatile boolean sleeping;
    private volatile boolean closed;

    /** {@code publish} runs on the publisher's thread; {@code lostReporter} gets the events lost since its last call. */
    L7FlowPublisher(int capacity, Consumer<L7Event> publish, LongConsumer lostReporter) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.publish = publish;
        this.lostReporter = lostReporter;
        this.thread = Thread.ofPlatform().name("sieve-l7-flows").daemon().start(this::run);
    }

    /** From any thread; never blocks. */
    void accept(L7Event e) {
        if (!queue.offer(e)) {
            lost.incrementAndGet();
            return;
        }
        if (sleeping) {
            sleeping = false; // one wake-up, not one per event
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        List<L7Event> batch = new ArrayList<>(BATCH);
        int idle = 0;
        while (!closed || !queue.isEmpty()) {
            batch.clear();
            queue.drainTo(batch, BATCH);
            long n = lost.getAndSet(0);
            if (n > 0) {
                LOG.warning("the L7 flow queue was full: " + n + " proxy events lost");
                lostReporter.accept(n);
            }
            if (batch.isEmpty()) {
                if (closed) continue;
                if (++idle < IDLE_NAPS) {
                    LockSupport.parkNanos(this, NAP_NANOS);
                } else {
                    sleeping = true;
                    if (queue.isEmpty() && !closed) LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                    sleeping = false;
                }
                continue;
            }
            idle = 0;
            for (L7Event e : batch) {
                try {
                    publish.accept(e);
                } catch (RuntimeException ex) {
                    LOG.log(Level.WARNING, "an L7 event could not become a flow", ex);
                }
            }
        }
    }

    /** Publishes what is queued, then stops. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
