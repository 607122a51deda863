package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.AgentEvent;
import dev.sieve.api.flow.AgentEventType;
import dev.sieve.api.flow.PolicyUpdateNotification;
import dev.sieve.api.observer.GetAgentEventsRequest;
import dev.sieve.api.observer.GetAgentEventsResponse;
import dev.sieve.api.observer.GetDebugEventsRequest;
import dev.sieve.api.observer.GetDebugEventsResponse;
import dev.sieve.observer.events.AgentEventHub;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.util.Iterator;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.GetNamespacesRequest;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.Node;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.api.relay.NodeState;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.server.ObserverServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ObserverServerTest {

    static final long SEC = 1_000_000_000L;

    FlowRing ring;
    AgentEventHub agentEvents;
    FlowEnricher enricher;
    ObserverServer server;
    ManagedChannel channel;
    ObserverGrpc.ObserverBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        ring = new FlowRing(16);
        enricher = Fixtures.enricher();
        agentEvents = new AgentEventHub("node-1", 8);
        server = ObserverServer.start(new InetSocketAddress("127.0.0.1", 0), ring, agentEvents, "node-1", "sieve-test");
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        stub = ObserverGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.close();
    }

    /** Appends 10 flows at T0 + i seconds: even i allowed, odd i denied. */
    void fill10() {
        for (int i = 0; i < 10; i++) {
            long t = Fixtures.T0 + i * SEC;
            ring.append(enricher.enrich(i % 2 == 0 ? Fixtures.allowedSyn(t) : Fixtures.deniedSyn(t)));
        }
    }

    static long sec(Flow f) {
        return f.getTime().getSeconds() - Fixtures.T0 / SEC;
    }

    List<Long> times(GetFlowsRequest req) {
        List<Long> out = new ArrayList<>();
        stub.getFlows(req).forEachRemaining(r -> {
            assertThat(r.getNodeName()).isEqualTo("node-1");
            out.add(sec(r.getFlow()));
        });
        return out;
    }

    static Timestamp ts(long secondsAfterT0) {
        return Timestamp.newBuilder().setSeconds(Fixtures.T0 / SEC + secondsAfterT0).build();
    }

    @Test
    void lastAndFirstNWithAndWithoutFilters() {
        fill10();
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(3).build())).containsExactly(7L, 8L, 9L);
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(3).setFirst(true).build())).containsExactly(0L, 1L, 2L);
        FlowFilter dropped = FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(2).addWhitelist(dropped).build())).containsExactly(7L, 9L);
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(2).setFirst(true).addBlacklist(dropped).build())).containsExactly(0L, 2L);
        assertThat(times(GetFlowsRequest.newBuilder().build())).hasSize(10); // number 0: everything buffered
        // `hubble observe --all` sends number = 2^64-1 (uint64), a negative long in Java: everything buffered
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(-1L).build())).hasSize(10);
        assertThat(times(GetFlowsRequest.newBuilder().setNumber(-1L).setFirst(true).build())).hasSize(10);
    }

    @Test
    void sinceAndUntilBoundTheTimes() {
        fill10();
        assertThat(times(GetFlowsRequest.newBuilder().setSince(ts(3)).setUntil(ts(5)).build())).containsExactly(3L, 4L, 5L);
        assertThat(times(GetFlowsRequest.newBuilder().setSince(ts(8)).build())).containsExactly(8L, 9L);
        assertThat(times(GetFlowsRequest.newBuilder().setUntil(ts(1)).build())).containsExactly(0L, 1L);
        assertThat(times(GetFlowsRequest.newBuilder().setSince(ts(2)).setNumber(2).setFirst(true).build())).containsExactly(2L, 3L);
        assertThat(times(GetFlowsRequest.newBuilder().setUntil(ts(6)).setNumber(2).build())).containsExactly(5L, 6L);
    }

    @Test
    void theRingKeepsTheNewestFlows() {
        for (int i = 0; i < 20; i++) ring.append(enricher.enrich(Fixtures.allowedSyn(Fixtures.T0 + i * SEC)));
        List<Long> all = times(GetFlowsRequest.newBuilder().build());
        assertThat(all).hasSize(16).startsWith(4L).endsWith(19L);
        ServerStatusResponse st = stub.serverStatus(ServerStatusRequest.getDefaultInstance());
        assertThat(st.getNumFlows()).isEqualTo(16);
        assertThat(st.getMaxFlows()).isEqualTo(16);
        assertThat(st.getSeenFlows()).isEqualTo(20);
    }

    @Test
    void followStreamsNewFlowsAsTheyAreAppended() throws Exception {
        fill10();
        BlockingQueue<GetFlowsResponse> got = new LinkedBlockingQueue<>();
        CountDownLatch done = new CountDownLatch(1);
        ObserverGrpc.ObserverStub async = ObserverGrpc.newStub(channel);
        FlowFilter dropped = FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
        var ctx = io.grpc.Context.current().withCancellation();
        ctx.run(() -> async.getFlows(GetFlowsRequest.newBuilder().setNumber(1).setFollow(true).addWhitelist(dropped).build(),
                new StreamObserver<>() {
                    public void onNext(GetFlowsResponse r) { got.add(r); }
                    public void onError(Throwable t) { done.countDown(); }
                    public void onCompleted() { done.countDown(); }
                }));
        // the last matching buffered flow first
        assertThat(sec(got.poll(10, TimeUnit.SECONDS).getFlow())).isEqualTo(9L);
        ring.append(enricher.enrich(Fixtures.allowedSyn(Fixtures.T0 + 20 * SEC)));   // filtered out
        ring.append(enricher.enrich(Fixtures.deniedSyn(Fixtures.T0 + 21 * SEC)));
        GetFlowsResponse next = got.poll(10, TimeUnit.SECONDS);
        assertThat(next).isNotNull();
        assertThat(sec(next.getFlow())).isEqualTo(21L);
        ring.append(enricher.enrich(Fixtures.deniedSyn(Fixtures.T0 + 22 * SEC)));
        assertThat(sec(got.poll(10, TimeUnit.SECONDS).getFlow())).isEqualTo(22L);
        assertThat(got).isEmpty();
        ctx.cancel(null);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void followWithSinceAndUntilEndsAtTheFirstFlowAfterUntil() throws Exception {
        fill10();
        // since makes the result independent of whether a flow arrives before or after the follow starts
        ring.append(enricher.enrich(Fixtures.allowedSyn(Fixtures.T0 + 30 * SEC)));
        Iterator<GetFlowsResponse> it = stub.getFlows(GetFlowsRequest.newBuilder().setFollow(true).setSince(ts(30)).setUntil(ts(31)).build());
        List<Long> seen = new ArrayList<>();
        seen.add(sec(it.next().getFlow())); // from the buffer: the stream is live now
        ring.append(enricher.enrich(Fixtures.allowedSyn(Fixtures.T0 + 31 * SEC)));
        ring.append(enricher.enrich(Fixtures.allowedSyn(Fixtures.T0 + 32 * SEC)));
        it.forEachRemaining(r -> seen.add(sec(r.getFlow())));
        assertThat(seen).containsExactly(30L, 31L); // 32 is after until: the stream completes
    }

    @Test
    void malformedRequestsAreInvalidArgument() {
        fill10();
        List<GetFlowsRequest> bad = List.of(
                GetFlowsRequest.newBuilder().setSince(ts(5)).setUntil(ts(4)).build(),
                GetFlowsRequest.newBuilder().setFirst(true).setFollow(true).setNumber(1).build(),
                GetFlowsRequest.newBuilder().setFirst(true).build(),
                GetFlowsRequest.newBuilder().addWhitelist(FlowFilter.newBuilder().addSourceIp("10.0.0.0/99")).build(),
                GetFlowsRequest.newBuilder().addBlacklist(FlowFilter.newBuilder().addSourceLabel("app in (x")).build(),
                GetFlowsRequest.newBuilder().setSince(Timestamp.newBuilder().setSeconds(1).setNanos(-5)).build(),
                GetFlowsRequest.newBuilder().setFieldMask(com.google.protobuf.FieldMask.newBuilder().addPaths("no_such_field")).build());
        for (GetFlowsRequest req : bad) {
            assertThatThrownBy(() -> stub.getFlows(req).forEachRemaining(r -> {}))
                    .as(req.toString())
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
    }

    @Test
    void fieldMaskKeepsOnlyTheNamedFields() {
        fill10();
        var it = stub.getFlows(GetFlowsRequest.newBuilder().setNumber(1)
                .setFieldMask(com.google.protobuf.FieldMask.newBuilder().addPaths("verdict").addPaths("source.pod_name")).build());
        Flow f = it.next().getFlow();
        assertThat(f.getVerdict()).isEqualTo(Verdict.DROPPED);
        assertThat(f.getSource().getPodName()).isEqualTo("backend-0");
        assertThat(f.getSource().getLabelsCount()).isZero();
        assertThat(f.hasIP()).isFalse();
    }

    @Test
    void statusNodesAndNamespaces() {
        java.time.Instant now = java.time.Instant.now();
        long nowNs = now.getEpochSecond() * SEC + now.getNano();
        for (int i = 0; i < 6; i++) ring.append(enricher.enrich(Fixtures.deniedSyn(nowNs - i * 1_000_000L)));
        ServerStatusResponse st = stub.serverStatus(ServerStatusRequest.getDefaultInstance());
        assertThat(st.getNumFlows()).isEqualTo(6);
        assertThat(st.getSeenFlows()).isEqualTo(6);
        assertThat(st.getMaxFlows()).isEqualTo(16);
        assertThat(st.getUptimeNs()).isPositive();
        assertThat(st.getNumConnectedNodes().getValue()).isEqualTo(1);
        assertThat(st.hasNumUnavailableNodes()).isTrue();
        assertThat(st.getNumUnavailableNodes().getValue()).isZero();
        assertThat(st.getFlowsRate()).isEqualTo(6 / 60.0);
        assertThat(st.getVersion()).isEqualTo("sieve-test");

        Node node = stub.getNodes(GetNodesRequest.getDefaultInstance()).getNodes(0);
        assertThat(node.getName()).isEqualTo("node-1");
        assertThat(node.getState()).isEqualTo(NodeState.NODE_CONNECTED);
        assertThat(node.getSeenFlows()).isEqualTo(6);

        assertThat(stub.getNamespaces(GetNamespacesRequest.getDefaultInstance()).getNamespacesList())
                .extracting(n -> n.getNamespace()).containsExactly("production", "shop");

    }

    @Test
    void healthServesTheObserverUnderBothNames() {
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        for (String service : List.of("", "observer.Observer", "hubble.server.Observer")) {
            assertThat(health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus())
                    .as(service).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        }
        assertThatThrownBy(() -> health.check(HealthCheckRequest.newBuilder().setService("no.such.Service").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        Iterator<HealthCheckResponse> watch = health.watch(HealthCheckRequest.newBuilder().setService("hubble.server.Observer").build());
        assertThat(watch.next().getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }

    static AgentEvent policyUpdated(long revision) {
        return AgentEvent.newBuilder().setType(AgentEventType.POLICY_UPDATED)
                .setPolicyUpdate(PolicyUpdateNotification.newBuilder().setRevision(revision).setRuleCount(1)).build();
    }

    @Test
    void agentEventsLastFirstAndFollow() throws Exception {
        for (int i = 1; i <= 10; i++) agentEvents.publish(policyUpdated(i)); // capacity 8: revisions 3..10 stay
        List<Long> last = new ArrayList<>();
        stub.getAgentEvents(GetAgentEventsRequest.newBuilder().setNumber(3).build()).forEachRemaining(r -> {
            assertThat(r.getNodeName()).isEqualTo("node-1");
            assertThat(r.hasTime()).isTrue();
            last.add(r.getAgentEvent().getPolicyUpdate().getRevision());
        });
        assertThat(last).containsExactly(8L, 9L, 10L);
        List<Long> first = new ArrayList<>();
        stub.getAgentEvents(GetAgentEventsRequest.newBuilder().setNumber(2).setFirst(true).build())
                .forEachRemaining(r -> first.add(r.getAgentEvent().getPolicyUpdate().getRevision()));
        assertThat(first).containsExactly(3L, 4L);

        Iterator<GetAgentEventsResponse> follow = stub.getAgentEvents(GetAgentEventsRequest.newBuilder().setNumber(1).setFollow(true).build());
        assertThat(follow.next().getAgentEvent().getPolicyUpdate().getRevision()).isEqualTo(10L);
        agentEvents.publish(policyUpdated(11));
        assertThat(follow.next().getAgentEvent().getPolicyUpdate().getRevision()).isEqualTo(11L);

        assertThatThrownBy(() -> stub.getAgentEvents(GetAgentEventsRequest.newBuilder().setFirst(true).setFollow(true).build()).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void debugEventsAreAnEmptyStreamThatFollowKeepsOpen() throws Exception {
        assertThat(stub.getDebugEvents(GetDebugEventsRequest.newBuilder().setNumber(20).build()).hasNext()).isFalse();
        var done = new java.util.concurrent.CountDownLatch(1);
        var call = ObserverGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
        var error = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        ctx.run(() -> call.getDebugEvents(GetDebugEventsRequest.newBuilder().setFollow(true).build(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(GetDebugEventsResponse r) {
                        error.set(new AssertionError("unexpected debug event " + r));
                    }

                    @Override
                    public void onError(Throwable t) {
                        error.compareAndSet(null, t);
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        error.compareAndSet(null, new AssertionError("the follow stream ended on its own"));
                        done.countDown();
                    }
                }));
        assertThat(done.await(500, TimeUnit.MILLISECONDS)).as("still open").isFalse();
        ctx.cancel(null);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(Status.fromThrowable(error.get()).getCode()).isEqualTo(Status.Code.CANCELLED);
    }
}
