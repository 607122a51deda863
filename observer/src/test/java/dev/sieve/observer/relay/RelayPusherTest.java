package dev.sieve.observer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node side of ingest against a relay that keeps the delivery contract of ingest.proto (stores a
 * batch once per (node, epoch, sequence), acks cumulatively, answers resends with DUPLICATE): every flow
 * arrives exactly once across relay restarts, a late relay, and an agent restart with a spool on disk.
 */
class RelayPusherTest {

    /** A relay that stores flows in memory, keyed for deduplication the way the real one is. */
    static final class ContractRelay extends FlowIngestGrpc.FlowIngestImplBase {
        final Map<String, Long> ackedThrough = new HashMap<>();
        final List<Long> flowIds = new ArrayList<>();
        volatile boolean rejectNext;
        volatile boolean storeDown;
        /** Stores batches but their acknowledgements never reach the node (lost on a half-open path). */
        volatile boolean acksLost;
        final java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public StreamObserver<FlowBatch> push(StreamObserver<BatchAck> acks) {
            return new StreamObserver<>() {
                @Override
                public void onNext(FlowBatch b) {
                    BatchAck.Builder ack = BatchAck.newBuilder().setSequence(b.getSequence()).setEpoch(b.getEpoch());
                    received.incrementAndGet();
                    if (storeDown && b.getSequence() > 0) {
                        acks.onNext(ack.setStatus(BatchAck.Status.STATUS_RETRY).setError("store unavailable").build());
                        return;
                    }
                    synchronized (ContractRelay.this) {
                        String key = b.getNodeName() + "/" + b.getEpoch();
                        long through = ackedThrough.getOrDefault(key, 0L);
                        if (b.getSequence() <= through) {
                            ack.setStatus(BatchAck.Status.STATUS_DUPLICATE);
                        } else if (b.getSequence() != through + 1) {
                            ack.setStatus(BatchAck.Status.STATUS_RETRY).setError("out of order");
                        } else if (rejectNext) {
                            rejectNext = false;
                            through = b.getSequence();
                            ack.setStatus(BatchAck.Status.STATUS_REJECTED).setError("malformed");
                        } else {
                            for (Flow f : b.getFlowsList()) flowIds.add(Long.parseLong(f.getUuid()));
                            through = b.getSequence();
                            ack.setStatus(BatchAck.Status.STATUS_STORED);
                        }
                        ackedThrough.put(key, through);
                        if (!acksLost) acks.onNext(ack.setAckedThrough(through).build());
                    }
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {
                    acks.onCompleted();
                }
            };
        }

        synchronized int stored() {
            return flowIds.size();
        }
    }

    final ContractRelay relay = new ContractRelay();
    Server server;
    int port;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    void startRelay() throws IOException {
        if (port == 0) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                port = s.getLocalPort();
            }
        }
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(relay).build().start();
    }

    void stopRelay() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server = null;
    }

    static Flow flow(int i) {
        return Flow.newBuilder().setNodeName("node-1").setUuid(String.valueOf(i)).build();
    }

    static final RelayPusher.Settings FAST = new RelayPusher.Settings(100, Duration.ofMillis(20), 8, Duration.ofMillis(200));

    RelayPusher pusher(Path spool) {
        return new RelayPusher("127.0.0.1:" + port, "node-1", spool, 64L << 20, FAST);
    }

    void assertExactlyOnce(int n) {
        synchronized (relay) {
            assertThat(relay.flowIds).hasSize(n);
            assertThat(relay.flowIds.stream().distinct().count()).isEqualTo(n);
            for (int i = 0; i < n; i++) assertThat(relay.flowIds.get(i)).isEqualTo(i);
        }
    }

    @Test
    void deliversEveryFlowOnceInOrder(@TempDir Path dir) throws Exception {
        startRelay();
        try (RelayPusher p = pusher(dir)) {
            for (int i = 0; i < 10_000; i++) p.offer(flow(i));
            assertThat(p.flush(Duration.ofSeconds(20))).isTrue();
            assertThat(p.pendingBatches()).isZero();
        }
        assertExactlyOnce(10_000);
    }

    /** While the relay's store is down every batch is answered RETRY: the node resends a few times a second, not in a loop. */
    @Test
    void retriesAreSpacedOutWhileTheStoreIsDown(@TempDir Path dir) throws Exception {
        startRelay();
        relay.storeDown = true;
        try (RelayPusher p = pusher(dir)) {
            for (int i = 0; i < 1_000; i++) p.offer(flow(i));
            int window = FAST.window(), rounds = (int) (1_000 / RelayPusher.RETRY_DELAY.toMillis()) + 1;
            for (int i = 0; i < 1_000 && relay.received.get() < window; i++) Thread.sleep(10); // connected, first window sent
            assertThat(relay.received.get()).isGreaterThanOrEqualTo(window);
            int before = relay.received.get();
            Thread.sleep(1_000);
            assertThat(relay.received.get() - before).as("batches received in 1 s").isLessThanOrEqualTo(window * (rounds + 1));
            relay.storeDown = false;
            assertThat(p.flush(Duration.ofSeconds(20))).isTrue();
        }
        assertExactlyOnce(1_000);
    }

    @Test
    void relayThatStartsLateOrRestartsLosesNothing(@TempDir Path dir) throws Exception {
        startRelay();
        stopRelay(); // the port is known, nobody listens: the node keeps its flows
        try (RelayPusher p = pusher(dir)) {
            for (int i = 0; i < 3_000; i++) p.offer(flow(i));
            startRelay();
            for (int i = 3_000; i < 6_000; i++) p.offer(flow(i));
            // restart the relay in the middle of the stream; unacknowledged batches are resent, duplicates dropped
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (relay.stored() < 4_000 && System.nanoTime() < deadline) Thread.sleep(5);
            stopRelay();
            for (int i = 6_000; i < 9_000; i++) p.offer(flow(i));
            startRelay();
            assertThat(p.flush(Duration.ofSeconds(30))).isTrue();
            assertThat(p.reconnects()).isPositive();
        }
        assertExactlyOnce(9_000);
    }

    @Test
    void agentRestartResendsTheSpoolUnderItsOldEpoch(@TempDir Path dir) throws Exception {
        startRelay();
        stopRelay();
        try (RelayPusher p = pusher(dir)) {
            for (int i = 0; i < 5_000; i++) p.offer(flow(i));
        } // closed with nothing acknowledged: written to disk
        try (var files = Files.list(dir)) {
            assertThat(files.filter(f -> f.toString().endsWith(".batch")).count()).isEqualTo(50);
        }
        startRelay();
        try (RelayPusher p = pusher(dir)) {
            for (int i = 5_000; i < 6_000; i++) p.offer(flow(i));
            assertThat(p.flush(Duration.ofSeconds(30))).isTrue();
        }
        assertExactlyOnce(6_000);
        try (var files = Files.list(dir)) {
            assertThat(files.count()).as("spool emptied once acknowledged").isZero();
        }
    }

    /**
     * Review finding F6: acknowledgements lost on the way (a half-open connection, a proxy that drops them) filled
     * the window and the node waited for them forever. With an acknowledgement deadline the node reconnects and
     * resends; the relay answers DUPLICATE for what it had: nothing lost, nothing twice.
     */
    @Test
    void lostAcknowledgementsDoNotStallThePush(@TempDir Path dir) throws Exception {
        startRelay();
        relay.acksLost = true;
        RelayPusher.Settings settings = new RelayPusher.Settings(100, Duration.ofMillis(20), 8, Duration.ofMillis(200),
                Duration.ofSeconds(1));
        try (RelayPusher p = new RelayPusher("127.0.0.1:" + port, "node-1", dir, 64L << 20, settings)) {
            for (int i = 0; i < 2_000; i++) p.offer(flow(i));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (relay.stored() < 800 && System.nanoTime() < deadline) Thread.sleep(5); // the first window, unacknowledged
            while (p.reconnects() == 0 && System.nanoTime() < deadline) Thread.sleep(5); // the deadline gave the stream up
            relay.acksLost = false;
            assertThat(p.flush(Duration.ofSeconds(20))).as("everything acknowledged in the end").isTrue();
            assertThat(p.reconnects()).isPositive();
        }
        assertExactlyOnce(2_000);
    }

    @Test
    void aRejectedBatchIsDroppedAndCountedAndTheRestFlows(@TempDir Path dir) throws Exception {
        startRelay();
        relay.rejectNext = true;
        try (RelayPusher p = pusher(dir)) {
            for (int i = 0; i < 1_000; i++) p.offer(flow(i));
            assertThat(p.flush(Duration.ofSeconds(20))).isTrue();
            assertThat(p.lostFlows()).isEqualTo(100);
        }
        assertThat(relay.stored()).isEqualTo(900);
    }

    @Test
    void aFullSpoolDropsTheOldestAndCountsThem(@TempDir Path dir) throws Exception {
        startRelay();
        stopRelay();
        try (RelayPusher p = new RelayPusher("127.0.0.1:" + port, "node-1", dir, 20_000, FAST)) {
            for (int i = 0; i < 20_000; i++) p.offer(flow(i));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (p.lostFlows() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(p.lostFlows()).isPositive();
            assertThat(p.spoolBytesOnDisk()).isLessThanOrEqualTo(20_000);
        }
    }
}
