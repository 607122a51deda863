package dev.sieve.observer.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.events.AgentEventHub;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node's GetFlows under clients that read slowly or come in numbers (review finding F18): each call is sent
 * at its client's pace, not buffered whole in the server, and the calls served at once are capped.
 */
class ObserverBackpressureTest {

    static final int FLOWS = 40_000;

    FlowRing ring;
    ObserverService service;
    Server server;
    ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        ring = new FlowRing(65_536);
        String pad = "x".repeat(1000); // ~1 KB a flow: 40 MB if a call were buffered whole
        for (int i = 0; i < FLOWS; i++) {
            ring.append(Flow.newBuilder().setTime(Timestamp.newBuilder().setSeconds(1_700_000_000L + i))
                    .setVerdict(Verdict.FORWARDED).setSource(Endpoint.newBuilder().setPodName("pod-" + i).addLabels(pad)).build());
        }
        service = new ObserverService(ring, new AgentEventHub("node-1"), "node-1", "test", "127.0.0.1:0", 3);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** A GetFlows call whose client asks for {@code initial} responses, then no more until told. */
    static final class SlowReader implements ClientResponseObserver<GetFlowsRequest, GetFlowsResponse> {
        final int initial;
        final AtomicInteger received = new AtomicInteger();
        final CompletableFuture<Status> done = new CompletableFuture<>();
        volatile ClientCallStreamObserver<GetFlowsRequest> call;

        SlowReader(int initial) {
            this.initial = initial;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<GetFlowsRequest> requestStream) {
            call = requestStream;
            requestStream.disableAutoRequestWithInitial(initial);
        }

        @Override
        public void onNext(GetFlowsResponse value) {
            received.incrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
            done.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            done.complete(Status.OK);
        }
    }

    @Test
    void aClientThatDoesNotReadHoldsBackOnlyItsOwnCall() throws Exception {
        SlowReader stalled = new SlowReader(1);
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(FLOWS).build(), stalled);
        Thread.sleep(1500);
        long sentWhileStalled = service.flowsSent();
        assertThat(stalled.received.get()).isEqualTo(1);
        // what the transport's windows hold (about 1 MB of ~1 KB flows), not the 40,000 asked for
        assertThat(sentWhileStalled).isBetween(1L, 5_000L);

        SlowReader other = new SlowReader(Integer.MAX_VALUE);
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(10).build(), other);
        assertThat(other.done.get(10, TimeUnit.SECONDS).isOk()).isTrue();
        assertThat(other.received.get()).isEqualTo(10);

        stalled.call.request(Integer.MAX_VALUE);
        assertThat(stalled.done.get(30, TimeUnit.SECONDS).isOk()).isTrue();
        assertThat(stalled.received.get()).as("nothing lost once it reads").isEqualTo(FLOWS);
    }

    @Test
    void callsBeyondTheCapAreRefusedAndTheCapIsFreedAgain() throws Exception {
        List<SlowReader> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            SlowReader r = new SlowReader(1);
            ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setFollow(true).build(), r);
            held.add(r);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.activeStreams() < 3 && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(service.activeStreams()).isEqualTo(3);

        SlowReader refused = new SlowReader(1);
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(1).build(), refused);
        assertThat(refused.done.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

        held.getFirst().call.cancel("done", null);
        while (service.activeStreams() > 2 && System.nanoTime() < deadline) Thread.sleep(10);
        SlowReader admitted = new SlowReader(Integer.MAX_VALUE);
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(1).build(), admitted);
        assertThat(admitted.done.get(10, TimeUnit.SECONDS).isOk()).as("a cancelled call frees its place").isTrue();
        assertThat(admitted.received.get()).isEqualTo(1);
    }
}
