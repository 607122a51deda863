package dev.sieve.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The generated gRPC stubs work end to end over an in-process transport. */
class GeneratedStubsTest {

    private Server server;
    private ManagedChannel channel;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private void start(io.grpc.BindableService... services) throws Exception {
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
        for (io.grpc.BindableService s : services) {
            b.addService(s);
        }
        server = b.build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @Test
    void observerGetFlowsAndServerStatus() throws Exception {
        start(new ObserverGrpc.ObserverImplBase() {
            @Override
            public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> out) {
                for (int i = 0; i < request.getNumber(); i++) {
                    out.onNext(GetFlowsResponse.newBuilder().setNodeName("n1")
                            .setFlow(Flow.newBuilder().setVerdict(request.getWhitelist(0).getVerdict(0))).build());
                }
                out.onCompleted();
            }

            @Override
            public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> out) {
                out.onNext(ServerStatusResponse.newBuilder().setNumFlows(3).setMaxFlows(4096).build());
                out.onCompleted();
            }
        });
        var stub = ObserverGrpc.newBlockingStub(channel);
        Iterator<GetFlowsResponse> it = stub.getFlows(GetFlowsRequest.newBuilder().setNumber(3)
                .addWhitelist(FlowFilter.newBuilder().addVerdict(Verdict.DROPPED)).build());
        List<GetFlowsResponse> got = new ArrayList<>();
        it.forEachRemaining(got::add);
        assertThat(got).hasSize(3).allSatisfy(r -> assertThat(r.getFlow().getVerdict()).isEqualTo(Verdict.DROPPED));
        assertThat(stub.serverStatus(ServerStatusRequest.getDefaultInstance()).getMaxFlows()).isEqualTo(4096);
    }

    /** A toy relay that dedupes on (node, epoch, sequence), as the ingest contract describes. */
    @Test
    void ingestPushAcksAndDuplicates() throws Exception {
        Set<String> stored = new HashSet<>();
        start(new FlowIngestGrpc.FlowIngestImplBase() {
            @Override
            public StreamObserver<FlowBatch> push(StreamObserver<BatchAck> acks) {
                return new StreamObserver<>() {
                    @Override
                    public void onNext(FlowBatch b) {
                        boolean fresh = stored.add(b.getNodeName() + "/" + b.getEpoch() + "/" + b.getSequence());
                        acks.onNext(BatchAck.newBuilder().setSequence(b.getSequence()).setEpoch(b.getEpoch())
                                .setStatus(fresh ? BatchAck.Status.STATUS_STORED : BatchAck.Status.STATUS_DUPLICATE)
                                .setAckedThrough(b.getSequence()).build());
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        acks.onCompleted();
                    }
                };
            }
        });
        List<BatchAck> acks = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        StreamObserver<FlowBatch> up = FlowIngestGrpc.newStub(channel).push(new StreamObserver<>() {
            @Override
            public void onNext(BatchAck a) {
                acks.add(a);
            }

            @Override
            public void onError(Throwable t) {
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        });
        FlowBatch b1 = FlowBatch.newBuilder().setNodeName("node-a").setEpoch("e1").setSequence(1)
                .setFirstFlowSeq(1).addFlows(FlowRoundTripTest.droppedFlow()).build();
        up.onNext(b1);
        up.onNext(b1); // resend after a (simulated) lost ack
        up.onNext(b1.toBuilder().setEpoch("e2").build()); // same sequence, new agent run: not a duplicate
        up.onCompleted();
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(acks).extracting(BatchAck::getStatus).containsExactly(
                BatchAck.Status.STATUS_STORED, BatchAck.Status.STATUS_DUPLICATE, BatchAck.Status.STATUS_STORED);
    }
}
