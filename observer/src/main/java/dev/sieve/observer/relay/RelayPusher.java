package dev.sieve.observer.relay;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Pushes the node's flows to the relay, in batches with sequence numbers, over Sieve's ingest stream. Flows
 * are batched (by count or age), sealed batches wait in a {@link Spool} (memory, then disk) until the relay
 * acknowledges them; after a reconnect the unacknowledged ones are resent in order and the relay drops
 * duplicates. The node never blocks on the relay: when the spool is full the oldest batches go and are
 * reported as lost flows.
 */
public final class RelayPusher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RelayPusher.class.getName());

    /** How long the pusher waits before resending after the relay answered RETRY. */
    static final Duration RETRY_DELAY = Duration.ofMillis(250);

    /** Tuning; the defaults suit a node producing up to a few hundred thousand flows a second. */
    public record Settings(int batchFlows, Duration batchAge, int window, Duration maxBackoff, Duration ackTimeout) {
        // a window of 32 batches keeps 32k flows a second moving while a busy relay acknowledges once a second
        public static final Settings DEFAULT = new Settings(1000, Duration.ofMillis(200), 32, Duration.ofSeconds(5));

        /** With the default acknowledgement deadline, 15 s: a relay storing into a slow ClickHouse answers well within it. */
        public Settings(int batchFlows, Duration batchAge, int window, Duration maxBackoff) {
            this(batchFlows, batchAge, window, maxBackoff, Duration.ofSeconds(15));
        }
    }

    private final String target;
    private final io.grpc.netty.shaded.io.netty.handler.ssl.SslContext ssl;
    private final String serverName;
    private final String nodeName;
    private final String epoch = UUID.randomUUID().toString();
    private final Settings settings;
    private final Spool spool;
    private final Object lock = new Object();
    private List<Flow> open = new ArrayList<>();
    private long openSince;
    private long nextSequence = 1;
    private long nextFlowSeq = 1;
    private long lostSinceLastBatch;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong rejectedFlows = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private volatile boolean connected;
    /** After a RETRY nothing is resent before this (System.nanoTime), so a store that is down is not hammered. */
    private long resendAfter;
    /** When the stream last made progress (an acknowledgement, or the first batch in flight), System.nanoTime. */
    private long lastProgress;
    private volatile boolean closed;
    private final Thread thread;

    public RelayPusher(String target, String nodeName, Path spoolDir, long spoolBytes, Settings settings) {
        this(target, nodeName, spoolDir, spoolBytes, settings, null);
    }

    /** With {@code tls} (null: plaintext) for the connection to the relay; the files are read now (a bad one is an error here). */
    public RelayPusher(String target, String nodeName, Path spoolDir, long spoolBytes, Settings settings, dev.sieve.tls.ClientTls tls) {
        try {
            this.ssl = tls == null ? null : dev.sieve.observer.tls.GrpcTls.client(tls);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("relay TLS: " + e.getMessage(), e);
        }
        this.serverName = tls == null ? null : tls.serverName();
        this.target = target;
        this.nodeName = nodeName;
        this.settings = settings;
        this.spool = new Spool(spoolDir, spoolBytes, settings.window() * 2);
        this.thread = Thread.ofPlatform().name("sieve-relay-push").daemon().start(this::run);
    }

    /** Adds a flow; never blocks on the network. */
    public void offer(Flow f) {
        synchronized (lock) {
            if (open.isEmpty()) openSince = System.nanoTime();
            open.add(f);
            if (open.size() >= settings.batchFlows()) {
                seal();
                lock.notifyAll();
            }
        }
    }

    /** Seals the open batch into the spool. Caller holds the lock. */
    private void seal() {
        if (open.isEmpty()) return;
        long now = System.currentTimeMillis();
        FlowBatch b = FlowBatch.newBuilder().setNodeName(nodeName).setEpoch(epoch).setSequence(nextSequence++)
                .setFirstFlowSeq(nextFlowSeq).addAllFlows(open).setLostFlows(lostSinceLastBatch)
                .setCreated(Timestamp.newBuilder().setSeconds(now / 1000).setNanos((int) (now % 1000) * 1_000_000)).build();
        nextFlowSeq += open.size();
        open = new ArrayList<>();
        lostSinceLastBatch = spool.add(b);
    }

    public boolean connected() {
        return connected;
    }

    /** Batches (and flows) waiting for the relay's acknowledgement. */
    public int pendingBatches() {
        return spool.size();
    }

    public long spoolBytesOnDisk() {
        return spool.bytesOnDisk();
    }

    public long ackedBatches() {
        return acked.get();
    }

    /** Flows dropped because the spool was full or the relay rejected them. */
    public long lostFlows() {
        return spool.droppedFlows() + rejectedFlows.get();
    }

    /** Flows the spool dropped: full, a disk write failed, or a spooled file was found corrupted. */
    public long spoolDroppedFlows() {
        synchronized (lock) {
            return spool.droppedFlows();
        }
    }

    /** Spool files found torn or corrupted (skipped). */
    public long spoolCorruptRecords() {
        synchronized (lock) {
            return spool.corruptRecords();
        }
    }

    public long reconnects() {
        return reconnects.get();
    }

    private void run() {
        long backoff = 100;
        while (!closed) {
            // keepalive finds a dead peer on an idle stream (every 5 min: what a gRPC server permits by default), the
            // acknowledgement deadline in stream() one that stops answering while batches wait
            ManagedChannel channel = channel();
            try {
                stream(channel);
                backoff = 100;
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                if (!closed) LOG.fine(() -> "relay " + target + ": " + e.getMessage());
            } finally {
                connected = false;
                channel.shutdownNow();
            }
            if (closed) break;
            reconnects.incrementAndGet();
            try {
                synchronized (lock) {
                    sealIfOld();
                    lock.wait(backoff);
                }
            } catch (InterruptedException e) {
                break;
            }
            backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
        }
    }

    private ManagedChannel channel() {
        var b = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forTarget(target)
                .keepAliveTime(5, TimeUnit.MINUTES).keepAliveTimeout(20, TimeUnit.SECONDS);
        if (ssl == null) return b.usePlaintext().build();
        b.sslContext(ssl);
        if (serverName != null && !serverName.isEmpty()) b.overrideAuthority(serverName);
        return b.build();
    }

    /** One connection: send batches in order within the window, trim the spool on acks, until an error. */
    private void stream(ManagedChannel channel) throws InterruptedException {
        var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        StreamObserver<FlowBatch> out = FlowIngestGrpc.newStub(channel).push(new StreamObserver<>() {
            @Override
            public void onNext(BatchAck ack) {
                onAck(ack);
            }

            @Override
            public void onError(Throwable t) {
                failure.set(t);
                wake();
            }

            @Override
            public void onCompleted() {
                failure.set(new IllegalStateException("relay closed the stream"));
                wake();
            }
        });
        spool.rewind(); // everything unacknowledged is sent again on a new stream
        lastProgress = System.nanoTime();
        try {
            while (!closed && failure.get() == null) {
                FlowBatch next;
                synchronized (lock) {
                    sealIfOld();
                    if (spool.inFlight() > 0 && System.nanoTime() - lastProgress > settings.ackTimeout().toNanos()) {
                        // acknowledgements stopped coming: a half-open connection or a lost ack; resend on a new
                        // stream (the relay answers DUPLICATE for what it stored)
                        failure.set(new IllegalStateException("no acknowledgement from the relay for "
                                + settings.ackTimeout().toMillis() + " ms"));
                        break;
                    }
                    long pause = resendAfter - System.nanoTime();
                    if (pause > 0) {
                        lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(pause)));
                        continue;
                    }
                    next = spool.inFlight() < settings.window() ? spool.nextToSend() : null;
                    if (next == null) {
                        lock.wait(Math.max(1, settings.batchAge().toMillis() / 2));
                        continue;
                    }
                }
                synchronized (lock) {
                    if (spool.inFlight() == 1) lastProgress = System.nanoTime(); // the deadline runs from the first send
                }
                out.onNext(next);
                connected = true;
            }
        } finally {
            if (failure.get() == null) {
                try {
                    out.onCompleted();
                } catch (RuntimeException e) {
                    // the stream is gone anyway
                }
            }
        }
        if (failure.get() != null && !closed) throw new IllegalStateException(failure.get().getMessage(), failure.get());
    }

    private void onAck(BatchAck ack) {
        synchronized (lock) {
            lastProgress = System.nanoTime();
            switch (ack.getStatus()) {
                case STATUS_STORED, STATUS_DUPLICATE -> acked.addAndGet(spool.ack(ack.getEpoch(), Math.max(ack.getSequence(), ack.getAckedThrough())));
                case STATUS_REJECTED -> {
                    LOG.warning("relay rejected batch " + ack.getSequence() + ": " + ack.getError());
                    rejectedFlows.addAndGet(spool.reject(ack.getEpoch(), ack.getSequence()));
                    if (ack.getAckedThrough() > 0) acked.addAndGet(spool.ack(ack.getEpoch(), ack.getAckedThrough()));
                }
                case STATUS_RETRY -> {
                    spool.retryFrom(ack.getEpoch(), ack.getSequence());
                    resendAfter = System.nanoTime() + RETRY_DELAY.toNanos();
                }
                default -> { }
            }
            lock.notifyAll();
        }
    }

    private void sealIfOld() {
        if (!open.isEmpty() && System.nanoTime() - openSince >= settings.batchAge().toNanos()) seal();
    }

    private void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    /** Waits until every flow offered so far is acknowledged, or the timeout passes; true when all are. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            seal();
            lock.notifyAll();
            while (spool.size() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
        return true;
    }

    /** Stops pushing; what is not acknowledged is written to the spool directory for the next run. */
    @Override
    public void close() {
        closed = true;
        synchronized (lock) {
            seal();
            lock.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lock) { // the push thread may outlive the join while it waits on the network
            spool.persist();
        }
    }
}
