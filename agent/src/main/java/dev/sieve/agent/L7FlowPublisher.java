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
 * the engine's lock or the ring's. The thread sleeps while there is nothing to do and is woken only then. A full
 * queue loses the event; losses are reported as Hubble's lost events (source OBSERVER_EVENTS_QUEUE).
 */
final class L7FlowPublisher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(L7FlowPublisher.class.getName());
    static final int CAPACITY = 65_536;
    private static final int BATCH = 512;

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
        if (sleeping) LockSupport.unpark(thread);
    }

    private void run() {
        List<L7Event> batch = new ArrayList<>(BATCH);
        while (!closed || !queue.isEmpty()) {
            batch.clear();
            queue.drainTo(batch, BATCH);
            if (batch.isEmpty()) {
                sleeping = true;
                if (queue.isEmpty() && !closed) LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
                sleeping = false;
            }
            for (L7Event e : batch) {
                try {
                    publish.accept(e);
                } catch (RuntimeException ex) {
                    LOG.log(Level.WARNING, "an L7 event could not become a flow", ex);
                }
            }
            long n = lost.getAndSet(0);
            if (n > 0) {
                LOG.warning("the L7 flow queue was full: " + n + " proxy events lost");
                lostReporter.accept(n);
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
