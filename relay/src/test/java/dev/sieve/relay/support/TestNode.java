package dev.sieve.relay.support;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.relay.query.Timestamps;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The node side of the ingest contract, as the observer's pusher must behave: every batch stays in
 * the spool until acknowledged (STORED/DUPLICATE or covered by acked_through); after a reconnect it
 * probes, trims, and resends the spool in order; RETRY means resend later; REJECTED means drop.
 */
public final class TestNode implements AutoCloseable {
    public final String name;
    public final String epoch;
    private final Supplier<ManagedChannel> channels;
    private final TreeMap<Long, FlowBatch> spool = new TreeMap<>();
    private long nextSeq = 1, nextFlowSeq = 1;
    private ManagedChannel channel;
    private ClientCallStreamObserver<FlowBatch> stream;
    private volatile boolean wantConnected;
    private final Thread loop;
    private volatile boolean closed;
    public final Map<BatchAck.Status, AtomicLong> acks = new ConcurrentHashMap<>();
    public final List<String> errors = new ArrayList<>();
    private volatile long lastResendMs;

    public TestNode(String name, String epoch, Supplier<ManagedChannel> channels) {
        this.name = name;
        this.epoch = epoch;
        this.channels = channels;
        this.loop = Thread.ofPlatform().daemon().name("node-" + name).start(this::run);
    }

    /** Seals a batch of flows (sent now if connected, else kept in the spool). */
    public synchronized FlowBatch push(List<Flow> flows) {
        FlowBatch b = FlowBatch.newBuilder().setNodeName(name).setEpoch(epoch).setSequence(nextSeq++).setFirstFlowSeq(nextFlowSeq)
                .addAllFlows(flows).setCreated(Timestamps.timestamp(System.currentTimeMillis() * 1_000_000L)).build();
        nextFlowSeq += flows.size();
        spool.put(b.getSequence(), b);
        send(b);
        return b;
    }

    /** Sends a batch outside the protocol (tests of malformed input); not spooled. */
    public synchronized void sendRaw(FlowBatch b) {
        if (stream != null) stream.onNext(b);
    }

    /** Replays batches another node instance sealed (an agent restarted from its disk spool). */
    public synchronized void adoptSpool(TestNode other) {
        synchronized (other) {
            spool.putAll(other.spool);
            nextSeq = other.nextSeq;
            nextFlowSeq = other.nextFlowSeq;
        }
    }

    /** Replays an explicit list of already-sent batches (duplicates). */
    public synchronized void resend(List<FlowBatch> batches) {
        for (FlowBatch b : batches) {
            spool.put(b.getSequence(), b);
            send(b);
        }
    }

    private void send(FlowBatch b) {
        if (stream == null) return;
        try {
            stream.onNext(b);
        } catch (RuntimeException e) {
            dropStream();
        }
    }

    public void connect() {
        wantConnected = true;
    }

    /** Drops the connection (cancels the stream, closes the channel) and stays away until {@link #connect()}. */
    public synchronized void disconnect() {
        wantConnected = false;
        if (stream != null) stream.cancel("node disconnects", null);
        dropStream();
    }

    private synchronized void dropStream() {
        stream = null;
        if (channel != null) channel.shutdownNow();
        channel = null;
    }

    public synchronized int spooled() {
        return spool.size();
    }

    public synchronized boolean connected() {
        return stream != null;
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(50);
                synchronized (this) {
                    if (wantConnected && stream == null) open();
                    else if (stream != null && !spool.isEmpty() && System.currentTimeMillis() - lastResendMs > 1000) {
                        // something was answered RETRY or not answered: resend the spool in order
                        lastResendMs = System.currentTimeMillis();
                        for (FlowBatch b : List.copyOf(spool.values())) send(b);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                synchronized (errors) {
                    errors.add(String.valueOf(e));
                }
                dropStream();
            }
        }
    }

    private void open() {
        channel = channels.get();
        ManagedChannel mine = channel;
        FlowIngestGrpc.newStub(mine).push(new ClientResponseObserver<FlowBatch, BatchAck>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<FlowBatch> s) {
                stream = s;
            }

            @Override
            public void onNext(BatchAck a) {
                acks.computeIfAbsent(a.getStatus(), k -> new AtomicLong()).incrementAndGet();
                synchronized (TestNode.this) {
                    if (!a.getEpoch().equals(epoch) && a.getSequence() != 0) return;
                    spool.headMap(a.getAckedThrough(), true).clear();
                    switch (a.getStatus()) {
                        case STATUS_STORED, STATUS_DUPLICATE, STATUS_REJECTED -> { if (a.getSequence() > 0) spool.remove(a.getSequence()); }
                        default -> { }
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                synchronized (TestNode.this) {
                    if (channel == mine) dropStream();
                }
            }

            @Override
            public void onCompleted() {
                onError(null);
            }
        });
        // probe, then resend everything unacknowledged, in order
        stream.onNext(FlowBatch.newBuilder().setNodeName(name).setEpoch(epoch).setSequence(0).build());
        lastResendMs = System.currentTimeMillis();
        for (FlowBatch b : List.copyOf(spool.values())) send(b);
    }

    /** Waits until every sealed batch is acknowledged. */
    public void awaitDrained(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (spooled() > 0) {
            if (System.nanoTime() > end) throw new AssertionError(name + ": " + spooled() + " batches still unacknowledged after " + timeout + "; acks " + acks);
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        closed = true;
        loop.interrupt();
        disconnect();
    }
}
