package dev.sieve.relay.ingest;

import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatchFrame;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.relay.nodes.NodeRegistry;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * {@code sieve.ingest.v1.FlowIngest/Push}: one stream per node. Batches of a stream are handled
 * in order, off the transport threads; acks are written as each batch completes. A bad batch gets
 * a REJECTED ack and the stream (and every other node's) goes on.
 *
 * <p>Never silent: a batch whose handling throws fails the stream (INTERNAL), so the node reconnects and resends. At most
 * {@code maxInFlight} batches of a stream are read ahead of their acks; the rest wait in the transport (HTTP/2 flow
 * control pushes back on the node). With node certificates, a stream may carry batches only for its certificate's node
 * name: any other ends the stream PERMISSION_DENIED, and nothing of it is stored.
 *
 * <p>Batches are received as {@link FlowBatchFrame}s, the same bytes as a FlowBatch with each flow
 * left encoded: flows are stored from their bytes, never parsed on the way in.
 */
public class FlowIngestService implements BindableService {
    /** Push as FlowIngest declares it, with requests read as frames. */
    static final MethodDescriptor<FlowBatchFrame, BatchAck> PUSH = FlowIngestGrpc.getPushMethod().toBuilder(
            ProtoUtils.marshaller(FlowBatchFrame.getDefaultInstance()), ProtoUtils.marshaller(BatchAck.getDefaultInstance())).build();

    private final IngestProcessor processor;
    private final NodeRegistry nodes;
    private final Executor executor;
    private final int maxInFlight;

    public FlowIngestService(IngestProcessor processor, NodeRegistry nodes, Executor executor) {
        this(processor, nodes, executor, 32);
    }

    public FlowIngestService(IngestProcessor processor, NodeRegistry nodes, Executor executor, int maxInFlight) {
        this.processor = processor;
        this.nodes = nodes;
        this.executor = executor;
        this.maxInFlight = Math.max(1, maxInFlight);
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerServiceDefinition.builder(FlowIngestGrpc.getServiceDescriptor().getName())
                .addMethod(PUSH, ServerCalls.asyncBidiStreamingCall(this::push)).build();
    }

    public StreamObserver<FlowBatchFrame> push(StreamObserver<BatchAck> responses) {
        IngestHeaders.Info info = IngestHeaders.INFO.get();
        String certified = dev.sieve.relay.tls.PeerAuthentication.NODE.get();
        var out = (ServerCallStreamObserver<BatchAck>) responses;
        out.disableAutoRequest();
        out.request(maxInFlight);
        return new StreamObserver<>() {
            private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
            private CompletableFuture<?> acks = CompletableFuture.completedFuture(null);
            private String node;
            private boolean done;
            /** The (node, epoch) streams this Push stream has carried: the first batch of each reloads its mark. */
            private final java.util.Set<String> seenStreams = new java.util.HashSet<>();

            private final Object sendLock = new Object();

            private void send(BatchAck a) {
                synchronized (sendLock) {
                    if (done || out.isCancelled()) return;
                    try {
                        out.onNext(a);
                    } catch (RuntimeException e) {
                        done = true; // the node went away; it resends what it did not see acknowledged
                    }
                }
            }

            /** Ends the stream with an error (once); the node resends what was not acknowledged. */
            private void fail(io.grpc.Status status) {
                synchronized (sendLock) {
                    if (done) return;
                    done = true;
                    try {
                        out.onError(status.asRuntimeException());
                    } catch (RuntimeException ignored) {
                        // already gone
                    }
                }
            }

            private boolean failed() {
                synchronized (sendLock) {
                    return done;
                }
            }

            @Override
            public synchronized void onNext(FlowBatchFrame b) {
                if (failed()) return;
                if (certified != null && !certified.equals(b.getNodeName())) {
                    nodes.rejected(certified);
                    fail(io.grpc.Status.PERMISSION_DENIED.withDescription("this stream's certificate is for node \"" + certified
                            + "\"; a batch for node \"" + b.getNodeName() + "\" is refused"));
                    return;
                }
                if (node == null && !b.getNodeName().isEmpty()) {
                    node = b.getNodeName();
                    nodes.streamOpened(node, info == null ? "" : info.peer(), info == null ? -1 : info.spoolBatches(), info == null ? -1 : info.spoolBytes());
                }
                // in order per stream: handle() for batch n+1 starts after batch n was handed to the store
                tail = tail.thenComposeAsync(x -> {
                    String streamKey = b.getNodeName() + "\n" + b.getEpoch();
                    boolean firstOfStream;
                    synchronized (seenStreams) {
                        firstOfStream = seenStreams.size() < 64 && seenStreams.add(streamKey); // a node carries one epoch or a few
                    }
                    if (failed()) return CompletableFuture.completedFuture(null); // after a failure nothing more of this stream is stored: the node resends it all in order
                    CompletableFuture<BatchAck> f;
                    try {
                        f = processor.handle(b, firstOfStream);
                    } catch (RuntimeException | Error e) {
                        f = CompletableFuture.failedFuture(e);
                    }
                    CompletableFuture<Void> sent = f.handle((ack, err) -> {
                        if (err != null) {
                            fail(io.grpc.Status.INTERNAL.withDescription("the relay failed on batch " + b.getSequence() + "; resend: " + err));
                        } else {
                            if (firstOfStream && ack.getStatus() == BatchAck.Status.STATUS_RETRY) {
                                synchronized (seenStreams) {
                                    seenStreams.remove(streamKey); // the mark was not read: the next batch reads it
                                }
                            }
                            send(ack);
                            try {
                                out.request(1);
                            } catch (RuntimeException ignored) {
                                // the call is over
                            }
                        }
                        return null;
                    });
                    synchronized (this) {
                        acks = CompletableFuture.allOf(acks, sent);
                    }
                    return CompletableFuture.completedFuture(null);
                }, executor);
            }

            @Override
            public void onError(Throwable t) {
                close();
            }

            @Override
            public void onCompleted() {
                tail.thenCompose(x -> { synchronized (this) { return acks; } }).whenComplete((x, e) -> {
                    synchronized (sendLock) {
                        if (!done) {
                            done = true;
                            try {
                                out.onCompleted();
                            } catch (RuntimeException ignored) {
                                // already gone
                            }
                        }
                    }
                });
                close();
            }

            private synchronized void close() {
                if (node != null) nodes.streamClosed(node);
                node = null;
            }
        };
    }
}
