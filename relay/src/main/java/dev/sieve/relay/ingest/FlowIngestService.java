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

  public FlowIngestService(IngestProcessor processor, NodeRegistry nodes, Executor executor) {
    this.processor = processor;
    this.nodes = nodes;
    this.executor = executor;
  }

  @Override
  public ServerServiceDefinition bindService() {
    return ServerServiceDefinition.builder(FlowIngestGrpc.getServiceDescriptor().getName())
        .addMethod(PUSH, ServerCalls.asyncBidiStreamingCall(this::push)).build();
  }

  public StreamObserver<FlowBatchFrame> push(StreamObserver<BatchAck> responses) {
    IngestHeaders.Info info = IngestHeaders.INFO.get();
    var out = (ServerCallStreamObserver<BatchAck>) responses;
    return new StreamObserver<>() {
      private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
      private CompletableFuture<?> acks = CompletableFuture.completedFuture(null);
      private String node;
      private boolean done;

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

      @Override
      public synchronized void onNext(FlowBatchFrame b) {
        if (node == null && !b.getNodeName().isEmpty()) {
          node = b.getNodeName();
          nodes.streamOpened(node, info == null ? "" : info.peer(), info == null ? -1 : info.spoolBatches(), info == null ? -1 : info.spoolBytes());
        }
        // in order per stream: handle() for batch n+1 starts after batch n was handed to the store
        tail = tail.thenComposeAsync(x -> {
          CompletableFuture<BatchAck> f = processor.handle(b);
          CompletableFuture<Void> sent = f.thenAccept(this::send);
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
