package dev.sieve.observer.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.observer.buffer.FlowRing;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * F18: a GetFlows client that does not read makes the node produce only what its transport window takes, not the
 * whole buffer (Netty would hold it all in the agent's heap); a client that then reads gets everything; calls beyond
 * {@link ObserverService#MAX_CONCURRENT_GET_FLOWS} are refused with RESOURCE_EXHAUSTED.
 */
class ObserverBackpressureTest {
    static final int FLOWS = 20_000;

    FlowRing ring;
    ObserverService service;
    Server server;
    ManagedChannel channel;

    @BeforeEach
    void setUp() throws Exception {
        ring = new FlowRing(FLOWS);
        String pad = "x".repeat(200); // ~250-byte flows: the whole buffer is ~5 MB
        for (int i = 0; i < FLOWS; i++) {
            ring.append(Flow.newBuilder().setVerdict(Verdict.FORWARDED).setNodeName("n1").addSourceNames(pad + i)
                    .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_700_000_000L + i)).build());
        }
        service = new ObserverService(ring, "n1", "test", "127.0.0.1:0");
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(service).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void tearDown() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** A GetFlows call whose client asks for one message, then {@code more} on demand. */
    static final class SlowReader implements ClientResponseObserver<GetFlowsRequest, GetFlowsResponse> {
        final AtomicLong received = new AtomicLong();
        final CompletableFuture<Status> done = new CompletableFuture<>();
        volatile ClientCallStreamObserver<GetFlowsRequest> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<GetFlowsRequest> requestStream) {
            call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
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
    void aClientThatDoesNotReadHoldsTheSenderNotTheHeap() throws Exception {
        SlowReader r = new SlowReader();
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(FLOWS).build(), r);
        Thread.sleep(1500); // the server had time to push everything, if it did not wait for the reader
        long produced = service.flowsSent();
        assertThat(produced).as("flows the server produced for a reader that took one").isLessThan(FLOWS / 4);
        r.call.request(Integer.MAX_VALUE);
        assertThat(r.done.get(30, TimeUnit.SECONDS)).isEqualTo(Status.OK);
        assertThat(r.received.get()).isEqualTo(FLOWS);
    }

    @Test
    void callsBeyondTheLimitAreRefused() throws Exception {
        List<SlowReader> open = new ArrayList<>();
        for (int i = 0; i < ObserverService.MAX_CONCURRENT_GET_FLOWS; i++) {
            SlowReader r = new SlowReader();
            ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setFollow(true).build(), r);
            open.add(r);
        }
        Thread.sleep(300); // let the calls start (they hold their slots while they follow)
        SlowReader extra = new SlowReader();
        ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(1).build(), extra);
        assertThat(extra.done.get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        for (SlowReader r : open) r.call.cancel("done", null);
        // the slots come back once the followers see their cancellation
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Status s;
        do {
            SlowReader again = new SlowReader();
            ObserverGrpc.newStub(channel).getFlows(GetFlowsRequest.newBuilder().setNumber(1).build(), again);
            again.call.request(10);
            s = again.done.get(10, TimeUnit.SECONDS);
        } while (s.getCode() == Status.Code.RESOURCE_EXHAUSTED && System.nanoTime() < deadline);
        assertThat(s.getCode()).isEqualTo(Status.Code.OK);
    }
}
