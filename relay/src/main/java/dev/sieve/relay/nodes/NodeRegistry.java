package dev.sieve.relay.nodes;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The nodes that push to this relay: open streams, last contact, counters, spool as the node reports it. */
public final class NodeRegistry {
    public static final class Node {
        public final String name;
        final AtomicInteger streams = new AtomicInteger();
        final AtomicLong flows = new AtomicLong();
        final AtomicLong batches = new AtomicLong();
        final AtomicLong lostFlows = new AtomicLong();
        final AtomicLong rejected = new AtomicLong();
        volatile long firstSeenMs, lastSeenMs;
        volatile String address = "";
        volatile long spoolBatches = -1, spoolBytes = -1;
        volatile long lastBatchDelayMs;

        Node(String name) {
            this.name = name;
        }
    }

    /** A snapshot for APIs. The node's epoch is not in it: with it, anyone who can push could aim a forged batch at a node's stream. */
    public record NodeInfo(String name, boolean connected, int streams, String address, long firstSeenMs, long lastSeenMs,
                                                  long flows, long batches, long lostFlows, long rejectedBatches, long spoolBatches, long spoolBytes, long lastBatchDelayMs) {}

    private final Map<String, Node> nodes = new ConcurrentHashMap<>();
    private final Set<String> namespaces = ConcurrentHashMap.newKeySet();
    private final Clock clock;
    private final Duration timeout;

    public NodeRegistry(Clock clock, Duration timeout) {
        this.clock = clock;
        this.timeout = timeout;
    }

    private Node node(String name) {
        return nodes.computeIfAbsent(name, n -> {
            Node x = new Node(n);
            x.firstSeenMs = clock.millis();
            return x;
        });
    }

    public void streamOpened(String name, String address, long spoolBatches, long spoolBytes) {
        Node n = node(name);
        n.streams.incrementAndGet();
        n.address = address;
        if (spoolBatches >= 0) n.spoolBatches = spoolBatches;
        if (spoolBytes >= 0) n.spoolBytes = spoolBytes;
        n.lastSeenMs = clock.millis();
    }

    public void streamClosed(String name) {
        Node n = nodes.get(name);
        if (n != null) n.streams.updateAndGet(v -> Math.max(0, v - 1));
    }

    public void batch(String name, String epoch, int flows, long lost, long createdMs) {
        Node n = node(name);
        n.flows.addAndGet(flows);
        n.batches.incrementAndGet();
        n.lostFlows.addAndGet(lost);
        long now = clock.millis();
        n.lastSeenMs = now;
        if (createdMs > 0) n.lastBatchDelayMs = Math.max(0, now - createdMs);
    }

    public void rejected(String name) {
        if (name == null || name.isEmpty()) return;
        node(name).rejected.incrementAndGet();
    }

    public void namespace(String ns) {
        if (!ns.isEmpty()) namespaces.add(ns);
    }

    public List<String> namespaces() {
        return namespaces.stream().sorted().toList();
    }

    public boolean connected(Node n) {
        return n.streams.get() > 0 || clock.millis() - n.lastSeenMs < timeout.toMillis();
    }

    public List<NodeInfo> nodes() {
        List<NodeInfo> out = new ArrayList<>();
        for (Node n : nodes.values())
            out.add(new NodeInfo(n.name, connected(n), n.streams.get(), n.address, n.firstSeenMs, n.lastSeenMs, n.flows.get(),
                    n.batches.get(), n.lostFlows.get(), n.rejected.get(), n.spoolBatches, n.spoolBytes, n.lastBatchDelayMs));
        out.sort(Comparator.comparing(NodeInfo::name));
        return out;
    }
}
