package dev.sieve.observer.events;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.AgentEvent;
import dev.sieve.api.observer.GetAgentEventsResponse;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node agent's control-plane events (Hubble's {@code flow.AgentEvent}) in a bounded buffer, as Cilium keeps
 * them for {@code Observer.GetAgentEvents}: the agent publishes, the Observer reads history and follows new ones.
 */
public final class AgentEventHub {

    /** One buffered event: its position, its time in epoch nanoseconds and the response sent for it. */
    public record Entry(long seq, long timeNanos, GetAgentEventsResponse response) {}

    public static final int DEFAULT_CAPACITY = 4096;

    private final String nodeName;
    private final int capacity;
    private final ArrayDeque<Entry> events = new ArrayDeque<>();
    private long nextSeq;

    public AgentEventHub(String nodeName) {
        this(nodeName, DEFAULT_CAPACITY);
    }

    public AgentEventHub(String nodeName, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        this.nodeName = nodeName;
        this.capacity = capacity;
    }

    public String nodeName() {
        return nodeName;
    }

    public void publish(AgentEvent event) {
        Instant now = Instant.now();
        Timestamp time = Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()).build();
        GetAgentEventsResponse r = GetAgentEventsResponse.newBuilder().setAgentEvent(event).setNodeName(nodeName).setTime(time).build();
        synchronized (this) {
            if (events.size() == capacity) events.removeFirst();
            events.addLast(new Entry(nextSeq++, now.getEpochSecond() * 1_000_000_000L + now.getNano(), r));
            notifyAll();
        }
    }

    /** The sequence number the next published event gets. */
    public synchronized long nextSeq() {
        return nextSeq;
    }

    /** The buffered events with a sequence number of at least {@code from}, oldest first. */
    public synchronized List<Entry> from(long from) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : events) if (e.seq() >= from) out.add(e);
        return out;
    }

    /** Waits until an event at or after {@code seq} exists, or the timeout passes; returns {@link #nextSeq()}. */
    public synchronized long awaitAfter(long seq, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (nextSeq <= seq) {
            long left = deadline - System.nanoTime();
            if (left <= 0) break;
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return nextSeq;
    }

    /** Wakes every follower (one of them was cancelled). */
    public synchronized void wakeAll() {
        notifyAll();
    }

    public synchronized int size() {
        return events.size();
    }
}
