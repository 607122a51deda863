package dev.sieve.relay.ingest;

import dev.sieve.api.flow.Flow;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The live side of {@code follow}: every flow the ingest path has just stored is offered to every
 * subscriber whose filter it matches. A slow subscriber loses flows (counted, reported to it as a
 * LostEvent) instead of slowing ingest down; while its queue is full, flows pass it by unread.
 */
public final class LiveFlows {
    /** Something a follower receives: a flow, or a count of flows it (or a node) lost. */
    public sealed interface Item {}

    public record FlowItem(Flow flow) implements Item {}

    public record Lost(long count, boolean atNode) implements Item {}

    public final class Subscription implements AutoCloseable {
        private final Predicate<Flow> filter;
        private final BlockingQueue<Item> queue;
        private final AtomicLong dropped = new AtomicLong();

        Subscription(Predicate<Flow> filter, int capacity) {
            this.filter = filter;
            this.queue = new ArrayBlockingQueue<>(capacity);
        }

        /**
         * Offers a batch. Once the queue is full the rest of the batch is counted lost without being parsed or
         * filtered, as Hubble's ring buffer counts the events a reader fell behind by whatever its filter: a
         * follower that stops reading costs ingest nothing.
         */
        void offer(List<Flow> flows) {
            int n = flows.size();
            for (int i = 0; i < n; i++) {
                if (queue.remainingCapacity() == 0) {
                    dropped.addAndGet(n - i);
                    return;
                }
                Flow f = flows.get(i);
                if (filter.test(f) && !queue.offer(new FlowItem(f))) {
                    dropped.addAndGet(n - i);
                    return;
                }
            }
        }

        void offerLost(long n) {
            queue.offer(new Lost(n, true));
        }

        /** The next item, or null after {@code timeoutMs}; slow-consumer losses come first as a Lost item. */
        public Item poll(long timeoutMs) throws InterruptedException {
            long d = dropped.getAndSet(0);
            if (d > 0) return new Lost(d, false);
            return queue.poll(timeoutMs, TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            subscribers.remove(this);
        }
    }

    private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
    private final int queueCapacity;

    public LiveFlows(int queueCapacity) {
        this.queueCapacity = queueCapacity;
    }

    public Subscription subscribe(Predicate<Flow> filter) {
        Subscription s = new Subscription(filter, queueCapacity);
        subscribers.add(s);
        return s;
    }

    public void publish(List<Flow> flows) {
        if (subscribers.isEmpty()) return;
        for (Subscription s : subscribers) s.offer(flows);
    }

    public void publishLost(long n) {
        for (Subscription s : subscribers) s.offerLost(n);
    }

    public int subscribers() {
        return subscribers.size();
    }
}
