package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.api.relay.NodeState;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.relay.support.TestNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Ingest and Observer over real gRPC (in-process transport) with the memory store. */
@Timeout(60)
class IngestTest {
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));
    RelayHarness relay;
    final List<AutoCloseable> closing = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        relay = new RelayHarness("relay-" + UUID.randomUUID(), new MemoryFlowStore(1_000_000),
                new dev.sieve.relay.ingest.IngestProcessor.Limits(1000, 1 << 20), Duration.ofMillis(300));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) c.close();
        relay.close();
    }

    TestNode node(String name) {
        TestNode n = new TestNode(name, "epoch-" + UUID.randomUUID(), relay::channel);
        closing.add(n);
        n.connect();
        return n;
    }

    /** A raw Push stream: send batches, read acks in order. */
    final class RawStream implements AutoCloseable {
        final LinkedBlockingQueue<BatchAck> acks = new LinkedBlockingQueue<>();
        final ManagedChannel ch = relay.channel();
        final StreamObserver<FlowBatch> out = FlowIngestGrpc.newStub(ch).push(new StreamObserver<>() {
            public void onNext(BatchAck a) { acks.add(a); }
            public void onError(Throwable t) { }
            public void onCompleted() { }
        });

        BatchAck send(FlowBatch b) throws InterruptedException {
            out.onNext(b);
            BatchAck a = acks.poll(10, TimeUnit.SECONDS);
            assertThat(a).as("ack for " + b.getSequence()).isNotNull();
            return a;
        }

        @Override
        public void close() {
            ch.shutdownNow();
        }
    }

    static FlowBatch batch(String node, String epoch, long seq, long firstFlowSeq, List<Flow> flows) {
        return FlowBatch.newBuilder().setNodeName(node).setEpoch(epoch).setSequence(seq).setFirstFlowSeq(firstFlowSeq).addAllFlows(flows).build();
    }

    @Test
    void acksAfterStoringAnswersResendsAsDuplicateAndProbesWithAckedThrough() throws Exception {
        TestFlows g = new TestFlows(1, "node-a", START);
        try (RawStream s = new RawStream()) {
            List<Flow> f1 = g.next(10), f2 = g.next(10);
            BatchAck a = s.send(batch("node-a", "e1", 1, 1, f1));
            assertThat(a.getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            assertThat(a.getAckedThrough()).isEqualTo(1);
            assertThat(a.getEpoch()).isEqualTo("e1");
            assertThat(relay.store.size()).isEqualTo(10);
            assertThat(s.send(batch("node-a", "e1", 2, 11, f2)).getAckedThrough()).isEqualTo(2);
            BatchAck dup = s.send(batch("node-a", "e1", 1, 1, f1));
            assertThat(dup.getStatus()).isEqualTo(BatchAck.Status.STATUS_DUPLICATE);
            assertThat(dup.getAckedThrough()).isEqualTo(2);
            BatchAck probe = s.send(batch("node-a", "e1", 0, 0, List.of()));
            assertThat(probe.getAckedThrough()).isEqualTo(2);
            assertThat(s.send(batch("node-a", "other-epoch", 0, 0, List.of())).getAckedThrough()).isZero();
            assertThat(relay.store.size()).isEqualTo(20);
        }
    }

    @Test
    void malformedAndOversizedBatchesAreRejectedWithoutDisturbingOtherNodes() throws Exception {
        TestNode good = node("node-good");
        TestFlows g = new TestFlows(2, "node-good", START), b = new TestFlows(3, "node-bad", START);
        try (RawStream bad = new RawStream()) {
            for (int i = 0; i < 5; i++) good.push(g.next(100));
            BatchAck tooMany = bad.send(batch("node-bad", "e", 1, 1, b.next(1001)));
            assertThat(tooMany.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
            assertThat(tooMany.getError()).contains("1001 flows").contains("limit of 1000");
            List<Flow> big = new ArrayList<>();
            for (Flow f : b.next(500)) big.add(f.toBuilder().setSummary("x".repeat(3000)).build());
            BatchAck tooBig = bad.send(batch("node-bad", "e", 2, 1002, big));
            assertThat(tooBig.getError()).contains("bytes, more than the limit");
            assertThat(tooBig.getAckedThrough()).as("the mark moves past rejected batches").isEqualTo(2);
            assertThat(bad.send(batch("", "e", 1, 1, b.next(1))).getError()).isEqualTo("node_name is empty");
            assertThat(bad.send(batch("node-bad", "", 1, 1, b.next(1))).getError()).isEqualTo("epoch is empty");
            assertThat(bad.send(batch("node-bad", "e", 3, 1502, List.of(b.next().toBuilder().clearTime().build()))).getError())
                    .isEqualTo("flows[0]: time is missing");
            assertThat(bad.send(batch("node-bad", "e", 0, 1, b.next(2))).getError()).contains("sequence 0 is reserved");
            // the same stream goes on working after rejections
            BatchAck ok = bad.send(batch("node-bad", "e", 4, 1503, b.next(3)));
            assertThat(ok.getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            assertThat(ok.getAckedThrough()).isEqualTo(4);
            // a gap (batch 5 never comes: the node discarded it) is accepted
            BatchAck afterGap = bad.send(batch("node-bad", "e", 6, 1507, b.next(1)).toBuilder().setLostFlows(1).build());
            assertThat(afterGap.getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            assertThat(afterGap.getAckedThrough()).isEqualTo(6);
            for (int i = 0; i < 5; i++) good.push(g.next(100));
            good.awaitDrained(Duration.ofSeconds(20));
        }
        assertThat(relay.store.size()).isEqualTo(1004);
        assertThat(relay.metrics.batchesByStatus.get("STATUS_REJECTED").get()).isEqualTo(6);
        assertThat(relay.store.query(FlowQuery.all().withNumber(0, false)).stream().filter(f -> f.getNodeName().equals("node-good"))).hasSize(1000);
    }

    @Test
    void flowsThatNameNoNodeAreStoredUnderTheBatchsNode() throws Exception {
        List<Flow> flows = new ArrayList<>(new TestFlows(9, "node-u", START).next(4));
        flows.set(1, flows.get(1).toBuilder().clearNodeName().build());
        flows.set(3, flows.get(3).toBuilder().clearNodeName().build());
        try (RawStream s = new RawStream()) {
            assertThat(s.send(batch("node-u", "e", 1, 1, flows)).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
        }
        assertThat(relay.store.query(FlowQuery.all())).extracting(Flow::getNodeName).containsExactly("node-u", "node-u", "node-u", "node-u");
        assertThat(relay.store.query(FlowQuery.all()).get(1)).isEqualTo(flows.get(1).toBuilder().setNodeName("node-u").build());
    }

    /** Flows arrive as bytes and are stored from them: bytes that are not a flow are rejected, never half-stored. */
    @Test
    void flowsThatAreNotFlowsAreRejected() throws Exception {
        LinkedBlockingQueue<BatchAck> acks = new LinkedBlockingQueue<>();
        ManagedChannel ch = relay.channel();
        try {
            StreamObserver<dev.sieve.api.ingest.v1.FlowBatchFrame> out = io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
                    ch.newCall(FlowIngestService.PUSH, io.grpc.CallOptions.DEFAULT), new StreamObserver<>() {
                        public void onNext(BatchAck a) { acks.add(a); }
                        public void onError(Throwable t) { }
                        public void onCompleted() { }
                    });
            TestFlows g = new TestFlows(4, "node-raw", START);
            com.google.protobuf.ByteString good = g.next().toByteString();
            // the bytes end inside a field
            com.google.protobuf.ByteString cut = good.substring(0, good.size() - 2);
            // well-formed, but a string deep inside is not UTF-8 (Summary, field 100000, length 2)
            com.google.protobuf.ByteString notUtf8 = g.next().toByteString().concat(com.google.protobuf.ByteString.copyFrom(
                    new byte[] {(byte) 0x82, (byte) 0xEA, 0x30, 2, (byte) 0xC3, 0x28}));
            int seq = 0;
            for (var flows : List.of(List.of(good, cut), List.of(good, notUtf8))) {
                seq++;
                out.onNext(dev.sieve.api.ingest.v1.FlowBatchFrame.newBuilder().setNodeName("node-raw").setEpoch("e").setSequence(seq)
                        .setFirstFlowSeq(2 * seq - 1).addAllFlows(flows).build());
                BatchAck a = acks.poll(10, TimeUnit.SECONDS);
                assertThat(a.getStatus()).isEqualTo(BatchAck.Status.STATUS_REJECTED);
                assertThat(a.getError()).startsWith("flows[1]: ");
            }
            assertThat(relay.store.size()).as("nothing of a rejected batch is stored").isZero();
            out.onNext(dev.sieve.api.ingest.v1.FlowBatchFrame.newBuilder().setNodeName("node-raw").setEpoch("e").setSequence(3)
                    .setFirstFlowSeq(5).addFlows(good).build());
            assertThat(acks.poll(10, TimeUnit.SECONDS).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            assertThat(relay.store.query(FlowQuery.all())).containsExactly(Flow.parseFrom(good));
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void nodeDisconnectedAndReconnectedResendsItsSpoolAndEveryFlowIsStoredOnce() throws Exception {
        TestNode n = node("node-a");
        TestFlows g = new TestFlows(4, "node-a", START);
        List<Flow> sent = new ArrayList<>();
        for (int i = 0; i < 10; i++) { List<Flow> fs = g.next(50); sent.addAll(fs); n.push(fs); }
        n.disconnect();
        for (int i = 0; i < 10; i++) { List<Flow> fs = g.next(50); sent.addAll(fs); n.push(fs); } // spooled while away
        assertThat(n.spooled()).isGreaterThanOrEqualTo(10);
        n.connect();
        n.awaitDrained(Duration.ofSeconds(20));
        List<Flow> stored = relay.store.query(FlowQuery.all());
        assertThat(stored.stream().map(Flow::getUuid)).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(sent.stream().map(Flow::getUuid).toList());
    }

    @Test
    void getFlowsFollowServesHistoryThenLiveFlowsFromTheIngestPath() throws Exception {
        TestNode n = node("node-a");
        TestFlows g = new TestFlows(5, "node-a", START);
        List<Flow> first = g.next(200);
        n.push(first);
        n.awaitDrained(Duration.ofSeconds(10));
        ManagedChannel ch = relay.channel();
        closing.add(ch::shutdownNow);
        LinkedBlockingQueue<GetFlowsResponse> got = new LinkedBlockingQueue<>();
        FlowFilter dropped = FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
        ObserverGrpc.newStub(ch).getFlows(GetFlowsRequest.newBuilder().setNumber(5).setFollow(true).addWhitelist(dropped).build(), new StreamObserver<>() {
            public void onNext(GetFlowsResponse r) { got.add(r); }
            public void onError(Throwable t) { }
            public void onCompleted() { }
        });
        List<Flow> firstDrops = first.stream().filter(f -> f.getVerdict() == Verdict.DROPPED).toList();
        List<String> want = new ArrayList<>(firstDrops.subList(firstDrops.size() - 5, firstDrops.size()).stream().map(Flow::getUuid).toList());
        for (int i = 0; i < 5; i++) assertThat(got.poll(5, TimeUnit.SECONDS).getFlow().getUuid()).isEqualTo(want.get(i));
        Thread.sleep(200);
        List<Flow> more = g.next(200);
        n.push(more);
        for (Flow f : more.stream().filter(f -> f.getVerdict() == Verdict.DROPPED).toList()) {
            GetFlowsResponse r = got.poll(5, TimeUnit.SECONDS);
            assertThat(r).isNotNull();
            assertThat(r.getFlow().getUuid()).isEqualTo(f.getUuid());
            assertThat(r.getNodeName()).isEqualTo("node-a");
        }
        assertThat(got.poll(300, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void followMergesLiveFlowsOfSeveralNodesByTime() throws Exception {
        ManagedChannel ch = relay.channel();
        closing.add(ch::shutdownNow);
        LinkedBlockingQueue<GetFlowsResponse> got = new LinkedBlockingQueue<>();
        ObserverGrpc.newStub(ch).getFlows(GetFlowsRequest.newBuilder().setFollow(true).build(), new StreamObserver<>() {
            public void onNext(GetFlowsResponse r) { got.add(r); }
            public void onError(Throwable t) { }
            public void onCompleted() { }
        });
        Thread.sleep(200);
        TestNode a = node("node-a"), b = node("node-b");
        // node-b's flows are older than node-a's but arrive later
        List<Flow> fa = new TestFlows(20, "node-a", START + 1_000_000_000L).next(20), fb = new TestFlows(21, "node-b", START).next(20);
        a.push(fa);
        a.awaitDrained(Duration.ofSeconds(5));
        b.push(fb);
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            GetFlowsResponse r = got.poll(5, TimeUnit.SECONDS);
            assertThat(r).as("flow " + i).isNotNull();
            times.add(Timestamps.nanos(r.getFlow()));
        }
        assertThat(times).isSorted();
    }

    @Test
    void getFlowsWithoutFollowAndInvalidFilters() throws Exception {
        TestNode n = node("node-a");
        TestFlows g = new TestFlows(6, "node-a", START);
        List<Flow> all = g.next(300);
        n.push(all);
        n.awaitDrained(Duration.ofSeconds(10));
        ManagedChannel ch = relay.channel();
        closing.add(ch::shutdownNow);
        var stub = ObserverGrpc.newBlockingStub(ch);
        Iterator<GetFlowsResponse> it = stub.getFlows(GetFlowsRequest.newBuilder().setNumber(3).setFirst(true).build());
        List<String> ids = new ArrayList<>();
        it.forEachRemaining(r -> ids.add(r.getFlow().getUuid()));
        assertThat(ids).containsExactly(all.get(0).getUuid(), all.get(1).getUuid(), all.get(2).getUuid());
        var bad = GetFlowsRequest.newBuilder().addWhitelist(FlowFilter.newBuilder().addSourceIp("not-an-ip")).build();
        try {
            stub.getFlows(bad).forEachRemaining(r -> { });
            throw new AssertionError("expected INVALID_ARGUMENT");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("source_ip").contains("not-an-ip");
        }
    }

    @Test
    void serverStatusSumsNodesAndNamesUnavailableOnes() throws Exception {
        TestNode a = node("node-a"), b = node("node-b");
        a.push(new TestFlows(7, "node-a", START).next(30));
        b.push(new TestFlows(8, "node-b", START).next(20));
        a.awaitDrained(Duration.ofSeconds(10));
        b.awaitDrained(Duration.ofSeconds(10));
        b.disconnect();
        Thread.sleep(600); // node timeout in this test: 300 ms
        ManagedChannel ch = relay.channel();
        closing.add(ch::shutdownNow);
        var stub = ObserverGrpc.newBlockingStub(ch);
        ServerStatusResponse st = stub.serverStatus(ServerStatusRequest.getDefaultInstance());
        assertThat(st.getNumFlows()).isEqualTo(50);
        assertThat(st.getSeenFlows()).isEqualTo(50);
        assertThat(st.getMaxFlows()).isEqualTo(1_000_000);
        assertThat(st.getNumConnectedNodes().getValue()).isEqualTo(1);
        assertThat(st.getNumUnavailableNodes().getValue()).isEqualTo(1);
        assertThat(st.getUnavailableNodesList()).containsExactly("node-b");
        var nodes = stub.getNodes(GetNodesRequest.getDefaultInstance()).getNodesList();
        assertThat(nodes).extracting(x -> x.getName() + "=" + x.getState() + "/" + x.getNumFlows())
                .containsExactly("node-a=" + NodeState.NODE_CONNECTED + "/30", "node-b=" + NodeState.NODE_UNAVAILABLE + "/20");
    }
}
