package dev.sieve.relay.observer;

import com.google.protobuf.UInt32Value;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEvent;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.GetNamespacesRequest;
import dev.sieve.api.observer.GetNamespacesResponse;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.GetNodesResponse;
import dev.sieve.api.observer.Namespace;
import dev.sieve.api.observer.Node;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.api.relay.NodeState;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.flowfilter.GetFlowsRequests;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/** {@code observer.Observer} on the relay, like Hubble Relay: stored + live flows, status summed over the nodes. */
public class RelayObserverService extends ObserverGrpc.ObserverImplBase {
    public static final String VERSION = "sieve-relay 0.1.0";
    private final FlowService flows;
    private final NodeRegistry nodes;
    private final FlowStore store;
    private final java.util.function.DoubleSupplier rate;
    private final long startNanos = System.nanoTime();

    public RelayObserverService(FlowService flows, NodeRegistry nodes, FlowStore store, java.util.function.DoubleSupplier rate) {
        this.flows = flows;
        this.nodes = nodes;
        this.store = store;
        this.rate = rate;
    }

    @Override
    public void getFlows(GetFlowsRequest req, StreamObserver<GetFlowsResponse> out) {
        GetFlowsRequests.Valid valid;
        FlowQuery q;
        try {
            valid = GetFlowsRequests.validate(req);
            q = FlowQuery.of(valid);
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        var call = (ServerCallStreamObserver<GetFlowsResponse>) out;
        Thread.ofVirtual().name("getflows").start(() -> {
            try {
                flows.stream(q, new FlowService.Sink() {
                    @Override
                    public boolean flow(Flow f) throws InterruptedException {
                        // flow control: wait while the client's window is full instead of buffering a huge answer
                        while (!call.isReady() && !call.isCancelled()) Thread.sleep(1);
                        if (call.isCancelled()) return false;
                        call.onNext(GetFlowsResponse.newBuilder().setFlow(valid.shape(f)).setNodeName(f.getNodeName()).setTime(f.getTime()).build());
                        return true;
                    }

                    @Override
                    public boolean lost(long n, boolean atNode) {
                        if (call.isCancelled()) return false;
                        call.onNext(GetFlowsResponse.newBuilder().setLostEvents(LostEvent.newBuilder()
                                .setSource(atNode ? LostEventSource.PERF_EVENT_RING_BUFFER : LostEventSource.HUBBLE_RING_BUFFER).setNumEventsLost(n))
                                .setTime(Timestamps.timestamp(System.currentTimeMillis() * 1_000_000L)).build());
                        return true;
                    }

                    @Override
                    public boolean cancelled() {
                        return call.isCancelled();
                    }
                });
                if (!call.isCancelled()) call.onCompleted();
            } catch (InvalidQueryException e) {
                out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            } catch (StoreException e) {
                out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
            } catch (InterruptedException e) {
                out.onError(Status.CANCELLED.asRuntimeException());
            } catch (RuntimeException e) {
                if (!call.isCancelled()) out.onError(Status.INTERNAL.withDescription(String.valueOf(e)).asRuntimeException());
            }
        });
    }

    @Override
    public void serverStatus(ServerStatusRequest req, StreamObserver<ServerStatusResponse> out) {
        try {
            out.onNext(status());
            out.onCompleted();
        } catch (StoreException e) {
            out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
        }
    }

    public ServerStatusResponse status() throws StoreException {
        var b = ServerStatusResponse.newBuilder();
        int connected = 0, unavailable = 0;
        long seen = 0;
        for (NodeRegistry.NodeInfo n : nodes.nodes()) {
            seen += n.flows();
            if (n.connected()) connected++;
            else {
                unavailable++;
                b.addUnavailableNodes(n.name());
            }
        }
        return b.setNumFlows(store.size()).setMaxFlows(store.capacity()).setSeenFlows(seen)
                .setUptimeNs(System.nanoTime() - startNanos)
                .setNumConnectedNodes(UInt32Value.of(connected)).setNumUnavailableNodes(UInt32Value.of(unavailable))
                .setVersion(VERSION).setFlowsRate(rate.getAsDouble()).build();
    }

    @Override
    public void getNodes(GetNodesRequest req, StreamObserver<GetNodesResponse> out) {
        var b = GetNodesResponse.newBuilder();
        // a node's flows are served from this relay's store: what it holds of them, out of what it can hold
        long capacity = store.capacity();
        for (NodeRegistry.NodeInfo n : nodes.nodes())
            b.addNodes(Node.newBuilder().setName(n.name()).setVersion(VERSION).setAddress(n.address())
                    .setState(n.connected() ? NodeState.NODE_CONNECTED : NodeState.NODE_UNAVAILABLE)
                    .setUptimeNs(Math.max(0, System.currentTimeMillis() - n.firstSeenMs()) * 1_000_000L)
                    .setNumFlows(Math.min(n.flows(), capacity)).setMaxFlows(capacity).setSeenFlows(n.flows()));
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void getNamespaces(GetNamespacesRequest req, StreamObserver<GetNamespacesResponse> out) {
        var b = GetNamespacesResponse.newBuilder();
        for (String ns : nodes.namespaces()) b.addNamespaces(Namespace.newBuilder().setNamespace(ns));
        out.onNext(b.build());
        out.onCompleted();
    }
}
