package dev.sieve.relay.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.api.ingest.v1.FlowBatch;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * F7, the stuck follower: a {@code GetFlows --follow} client that stops reading while a node pushes N flows. The relay
 * keeps a bounded queue per follower: its heap stays within that bound (measured after a full GC, against the same run
 * without the follower), ingest goes at the same rate, and when the follower reads again it gets {@code lost_events}
 * for what it missed. {@code make test} runs it scaled down (100,000 flows, stalled through the push and 2 s more);
 * {@code scripts/bench-follower.sh} runs the figures ({@code -Dsieve.stuck.flows=1000000
 * -Dsieve.stuck.stallSeconds=60}) and writes {@code -Dsieve.stuck.out}.
 */
class StuckFollowerFaultTest {
    static final int FLOWS = Integer.getInteger("sieve.stuck.flows", 100_000);
    static final int STALL_SECONDS = Integer.getInteger("sieve.stuck.stallSeconds", 2);
    static final int QUEUE = 10_000;
    static final int BATCH = 1000;

    record Run(double flowsPerSecond, long heapStalledBytes, long heapReleasedBytes) {}

    @Test
    void aFollowerThatStopsReadingCostsBoundedMemoryAndNoIngestRateAndGetsLostEvents() throws Exception {
        warmUp();
        // without, with, without again: the machine's load changes between runs; the two runs without are averaged
        Run before = run(false, null);
        AtomicLong received = new AtomicLong(), lost = new AtomicLong();
        Run stuck = run(true, new AtomicLong[] {received, lost});
        Run after = run(false, null);
        Run baseline = new Run((before.flowsPerSecond() + after.flowsPerSecond()) / 2, 0, 0);
        long heapGrowth = stuck.heapStalledBytes() - stuck.heapReleasedBytes();
        String summary = String.format(Locale.ROOT,
                "{\"flows\":%d,\"stall_seconds\":%d,\"follower_queue\":%d,\"ingest_flows_per_s_without_follower\":%.0f,"
                        + "\"ingest_flows_per_s_with_stuck_follower\":%.0f,\"ingest_ratio\":%.3f,\"heap_while_stalled_mb\":%.1f,"
                        + "\"heap_after_follower_gone_mb\":%.1f,\"heap_held_for_follower_mb\":%.1f,\"follower_flows_received\":%d,\"follower_lost_events\":%d}",
                FLOWS, STALL_SECONDS, QUEUE, baseline.flowsPerSecond(), stuck.flowsPerSecond(), stuck.flowsPerSecond() / baseline.flowsPerSecond(),
                stuck.heapStalledBytes() / 1e6, stuck.heapReleasedBytes() / 1e6, heapGrowth / 1e6, received.get(), lost.get());
        System.out.println("stuck follower: " + summary);
        String out = System.getProperty("sieve.stuck.out");
        if (out != null) Files.writeString(Path.of(out), summary + "\n");

        // bounded: the follower's queue (10,000 flows), the follow merge's buffer and the transport's window, not the N
        // flows it missed (~1.7 KB a flow on the heap: 100,000 unbounded would be ~170 MB)
        assertThat(heapGrowth).as("heap held for the stuck follower").isLessThan(96L << 20);
        // what it could not take is reported, and everything is accounted for
        assertThat(received.get()).as("flows it got: its queue, the follow merge's buffer, the transport's window")
                .isLessThanOrEqualTo(2L * QUEUE + 1000);
        assertThat(lost.get()).isGreaterThanOrEqualTo(FLOWS - 2L * QUEUE - 1000);
        assertThat(received.get() + lost.get()).isEqualTo(FLOWS);
        // ingest is not slowed (a loose bound: this machine is shared; the bench reports the ratio)
        assertThat(stuck.flowsPerSecond()).isGreaterThan(baseline.flowsPerSecond() * 0.5);
    }

    void warmUp() throws Exception {
        try (RelayHarness relay = harness()) {
            push(relay, 50 * BATCH, "node-w");
        }
    }

    /**
     * A node's push as the relay's ingest sees it: batches handled by the relay's {@link IngestProcessor} (store, then
     * live followers), up to 32 unacknowledged at a time as on a Push stream; returns flows per second.
     */
    static double push(RelayHarness relay, int flows, String node) throws Exception {
        TestFlows g = new TestFlows(2, node, System.currentTimeMillis() * 1_000_000L);
        java.util.ArrayDeque<java.util.concurrent.CompletableFuture<dev.sieve.api.ingest.v1.BatchAck>> window = new java.util.ArrayDeque<>();
        long start = System.nanoTime();
        for (int i = 0; i < flows / BATCH; i++) { // the flows are made in the loop, as a node's encoding would be
            FlowBatch b = FlowBatch.newBuilder().setNodeName(node).setEpoch("e").setSequence(i + 1).setFirstFlowSeq(1L + (long) i * BATCH)
                    .addAllFlows(g.next(BATCH)).build();
            window.add(relay.processor.handle(b));
            if (window.size() >= 32) assertThat(window.poll().get().getStatus()).isEqualTo(dev.sieve.api.ingest.v1.BatchAck.Status.STATUS_STORED);
        }
        while (!window.isEmpty()) assertThat(window.poll().get().getStatus()).isEqualTo(dev.sieve.api.ingest.v1.BatchAck.Status.STATUS_STORED);
        return flows / ((System.nanoTime() - start) / 1e9);
    }

    /** Pushes FLOWS flows through a fresh relay, with a follower that stops reading or none. */
    Run run(boolean follower, AtomicLong[] counts) throws Exception {
        try (RelayHarness relay = harness()) {
            ManagedChannel ch = relay.channel();
            AtomicReference<ClientCallStreamObserver<GetFlowsRequest>> call = new AtomicReference<>();
            try {
                if (follower) {
                    ObserverGrpc.newStub(ch).getFlows(GetFlowsRequest.newBuilder().setFollow(true).build(),
                            new ClientResponseObserver<GetFlowsRequest, GetFlowsResponse>() {
                                public void beforeStart(ClientCallStreamObserver<GetFlowsRequest> s) {
                                    s.disableAutoRequestWithInitial(10); // reads 10 responses, then stops
                                    call.set(s);
                                }

                                public void onNext(GetFlowsResponse r) {
                                    if (r.hasFlow()) counts[0].incrementAndGet();
                                    if (r.hasLostEvents()) counts[1].addAndGet(r.getLostEvents().getNumEventsLost());
                                }

                                public void onError(Throwable t) { }

                                public void onCompleted() { }
                            });
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (relay.live.subscribers() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
                    assertThat(relay.live.subscribers()).isEqualTo(1);
                }
                long stalledAt = System.nanoTime();
                double rate = push(relay, FLOWS, "node-1");
                if (!follower) return new Run(rate, 0, 0);
                long rest = STALL_SECONDS * 1_000_000_000L - (System.nanoTime() - stalledAt);
                if (rest > 0) Thread.sleep(rest / 1_000_000);
                long stalled = heapAfterGc();
                call.get().request(Integer.MAX_VALUE); // reads again: what it missed comes as lost_events
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (counts[0].get() + counts[1].get() < FLOWS && System.nanoTime() < deadline) Thread.sleep(20);
                call.get().cancel("done", null);
                deadline = System.nanoTime() + 5_000_000_000L;
                while (relay.live.subscribers() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
                return new Run(rate, stalled, heapAfterGc());
            } finally {
                ch.shutdownNow();
            }
        }
    }

    static long heapAfterGc() throws InterruptedException {
        var mem = ManagementFactory.getMemoryMXBean();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
            best = Math.min(best, mem.getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    static RelayHarness harness() throws Exception {
        return new RelayHarness("relay-" + UUID.randomUUID(), new MemoryFlowStore(FLOWS + 100_000),
                new IngestProcessor.Limits(10_000, 16 << 20), Duration.ofSeconds(60), QUEUE);
    }

}
