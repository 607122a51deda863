package dev.sieve.observer.buffer;

import dev.sieve.api.flow.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The node's bounded in-memory flow buffer: the newest {@code capacity} flows, oldest overwritten first.
 *
 * <p>One writer ({@link #append}), any number of readers. Every flow gets a sequence number (0, 1, ...);
 * a reader addresses flows by sequence and gets {@code null} for one that was already overwritten (or not
 * written yet). Readers that follow the buffer block in {@link #awaitAfter} and are woken by the writer — no
 * polling. {@link #seen()} counts every flow ever appended, {@link #lost()} the events the datapath or the
 * observer could not deliver (reported through {@link #recordLost}).
 */
public final class FlowRing {

    public static final int DEFAULT_CAPACITY = 65_536;

    /** A buffered flow with its sequence number and its time in nanoseconds since the epoch. */
    public record Entry(long seq, long timeNanos, Flow flow) {}

    private final int capacity;
    private final AtomicReferenceArray<Entry> slots;
    /** Sequence of the next flow to be written == number of flows ever written. */
    private volatile long next;
    private final AtomicLong lost = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition appended = lock.newCondition();
    private volatile int waiters;

    public FlowRing() {
        this(DEFAULT_CAPACITY);
    }

    public FlowRing(int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("flow buffer capacity must be positive, got " + capacity);
        this.capacity = capacity;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** Appends one flow (single writer) and wakes followers; returns its sequence number. */
    public long append(Flow flow) {
        long seq = next;
        long t = flow.getTime().getSeconds() * 1_000_000_000L + flow.getTime().getNanos();
        slots.lazySet((int) (seq % capacity), new Entry(seq, t, flow));
        next = seq + 1;
        if (waiters > 0) {
            lock.lock();
            try {
                appended.signalAll();
            } finally {
                lock.unlock();
            }
        }
        return seq;
    }

    /** The flow with sequence {@code seq}, or null if it was overwritten or is not written yet. */
    public Entry get(long seq) {
        if (seq < 0 || seq >= next) return null;
        Entry e = slots.get((int) (seq % capacity));
        return e != null && e.seq() == seq ? e : null;
    }

    /** Sequence of the oldest flow still buffered (== {@link #nextSeq()} when empty). */
    public long oldestSeq() {
        return Math.max(0, next - capacity);
    }

    /** Sequence the next appended flow will get. */
    public long nextSeq() {
        return next;
    }

    /** Number of flows buffered now. */
    public int size() {
        return (int) Math.min(next, capacity);
    }

    public int capacity() {
        return capacity;
    }

    /** Flows ever appended. */
    public long seen() {
        return next;
    }

    /** Events lost before they reached the buffer. */
    public long lost() {
        return lost.get();
    }

    public void recordLost(long n) {
        if (n > 0) lost.addAndGet(n);
    }

    /**
     * Blocks until a flow with a sequence {@code >= seq} exists, the timeout passes or the thread is
     * interrupted; returns {@link #nextSeq()}.
     */
    public long awaitAfter(long seq, long timeout, TimeUnit unit) throws InterruptedException {
        if (next > seq) return next;
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            waiters++;
            try {
                while (next <= seq && nanos > 0) nanos = appended.awaitNanos(nanos);
            } finally {
                waiters--;
            }
        } finally {
            lock.unlock();
        }
        return next;
    }

    /** Wakes every follower, e.g. so that they notice a cancelled call. */
    public void wakeAll() {
        lock.lock();
        try {
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
