package dev.sieve.observer.server;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEvent;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.api.observer.GetAgentEventsRequest;
import dev.sieve.api.observer.GetAgentEventsResponse;
import dev.sieve.api.observer.GetDebugEventsRequest;
import dev.sieve.api.observer.GetDebugEventsResponse;
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
import dev.sieve.api.observer.TLS;
import dev.sieve.api.relay.NodeState;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.events.AgentEventHub;
import dev.sieve.flowfilter.GetFlowsRequests;
import dev.sieve.flowfilter.GetFlowsRequests.Valid;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The node's {@code observer.Observer} service over a {@link FlowRing}.
 *
 * <p>GetFlows follows Hubble's semantics: {@code number} N without {@code first} returns the last N flows
 * that match (oldest first), with {@code first} the first N; {@code number} 0 returns every matching flow in
 * the buffer, or none of the buffered ones when following without {@code since}; {@code since}/{@code
 * until} bound the flows' times; {@code follow} then streams new matching flows as they are appended (and
 * ends at the first flow after {@code until}). A follower that falls behind the ring gets a LostEvent
 * ({@code HUBBLE_RING_BUFFER}); events lost before the buffer are reported the same way
 * ({@code PERF_EVENT_RING_BUFFER}). Malformed requests (since after until, first with follow, first without
 * number or since, bad filter values, unknown field-mask paths) get INVALID_ARGUMENT. Each call streams at the
 * pace its client reads (gRPC flow control), and at most {@link #DEFAULT_MAX_STREAMS} run at once
 * (RESOURCE_EXHAUSTED beyond), so slow or many clients cannot exhaust the agent's heap.
 */
public final class ObserverService extends ObserverGrpc.ObserverImplBase {

    /** GetFlows calls a node serves at once (each holds a virtual thread and its filter; the relay needs one). */
    public static final int DEFAULT_MAX_STREAMS = 256;

    private final FlowRing ring;
    private final String nodeName;
    private final String version;
    private final String address;
    private final AgentEventHub agentEvents;
    private final long startNanos = System.nanoTime();
    private final int maxStreams;
    private final Semaphore streams;
    private final LongAdder flowsSent = new LongAdder();

    public ObserverService(FlowRing ring, String nodeName, String version, String address) {
        this(ring, new AgentEventHub(nodeName), nodeName, version, address);
    }

    public ObserverService(FlowRing ring, AgentEventHub agentEvents, String nodeName, String version, String address) {
        this(ring, agentEvents, nodeName, version, address, DEFAULT_MAX_STREAMS);
    }

    /** @param maxStreams GetFlows calls served at once; more get RESOURCE_EXHAUSTED */
    public ObserverService(FlowRing ring, AgentEventHub agentEvents, String nodeName, String version, String address,
                           int maxStreams) {
        if (maxStreams < 1) throw new IllegalArgumentException("maxStreams must be at least 1");
        this.maxStreams = maxStreams;
        this.streams = new Semaphore(maxStreams);
        this.ring = ring;
        this.agentEvents = agentEvents;
        this.nodeName = nodeName;
        this.version = version;
        this.address = address;
    }

    /** The request validated as the relay validates it; INVALID_ARGUMENT when it cannot be served. */
    static Valid parse(GetFlowsRequest req) {
        try {
            return GetFlowsRequests.validate(req);
        } catch (GetFlowsRequests.InvalidRequestException e) {
            throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
        }
    }

    @Override
    public void getFlows(GetFlowsRequest request, StreamObserver<GetFlowsResponse> responseObserver) {
        Valid q;
        try {
            q = parse(request);
        } catch (RuntimeException e) {
            responseObserver.onError(e);
            return;
        }
        if (!streams.tryAcquire()) {
            responseObserver.onError(Status.RESOURCE_EXHAUSTED
                    .withDescription("too many concurrent GetFlows calls on this node (" + maxStreams + ")").asRuntimeException());
            return;
        }
        ServerCallStreamObserver<GetFlowsResponse> out = (ServerCallStreamObserver<GetFlowsResponse>) responseObserver;
        Stream f = new Stream(q, out);
        out.setOnCancelHandler(f::cancel);
        out.setOnReadyHandler(f::ready);
        Thread.ofVirtual().name(q.follow() ? "getflows-follow" : "getflows").start(f);
    }

    /** Calls of GetFlows running now. */
    public int activeStreams() {
        return maxStreams - streams.availablePermits();
    }

    /** Flows sent to GetFlows callers so far. */
    public long flowsSent() {
        return flowsSent.sum();
    }

    private GetFlowsResponse response(FlowRing.Entry e, Valid q) {
        Flow f = q.shape(e.flow());
        return GetFlowsResponse.newBuilder().setFlow(f).setNodeName(nodeName).setTime(e.flow().getTime()).build();
    }

    /**
     * One GetFlows call on its own virtual thread: the buffered part, then (with {@code follow}) new flows as they
     * come. Every response waits until the transport is ready for it, so a client that reads slowly or not at
     * all holds back only its own call, never the node's memory.
     */
    private final class Stream implements Runnable {
        private final Valid q;
        private final ServerCallStreamObserver<GetFlowsResponse> out;
        private volatile boolean cancelled;
        private final Object readyLock = new Object();

        Stream(Valid q, ServerCallStreamObserver<GetFlowsResponse> out) {
            this.q = q;
            this.out = out;
        }

        void cancel() {
            cancelled = true;
            ring.wakeAll();
            ready();
        }

        void ready() {
            synchronized (readyLock) {
                readyLock.notifyAll();
            }
        }

        /** Sends one response once the transport takes it; false if the call was cancelled meanwhile. */
        private boolean send(GetFlowsResponse r) throws InterruptedException {
            synchronized (readyLock) {
                while (!cancelled && !out.isReady()) readyLock.wait(1000);
            }
            if (cancelled) return false;
            out.onNext(r);
            if (r.hasFlow()) flowsSent.increment();
            return true;
        }

        private boolean matches(FlowRing.Entry e) {
            return e.timeNanos() >= q.sinceNanos() && e.timeNanos() <= q.untilNanos() && q.filter().test(e.flow());
        }

        /** Sends the buffered part of the query, up to (excluding) sequence {@code end}; false if cancelled. */
        private boolean history(long end) throws InterruptedException {
            long oldest = ring.oldestSeq();
            if (q.first()) {
                long sent = 0;
                for (long s = oldest; s < end; s++) {
                    FlowRing.Entry e = ring.get(s);
                    if (e == null || !matches(e)) continue;
                    if (!send(response(e, q))) return false;
                    if (++sent == q.number()) break;
                }
            } else if (q.number() > 0) {
                ArrayDeque<FlowRing.Entry> last = new ArrayDeque<>();
                for (long s = end - 1; s >= oldest && last.size() < q.number(); s--) {
                    FlowRing.Entry e = ring.get(s);
                    if (e == null) break; // overwritten meanwhile: everything older is gone too
                    if (matches(e)) last.addFirst(e);
                }
                for (FlowRing.Entry e : last) {
                    if (!send(response(e, q))) return false;
                }
            } else if (!q.follow() || q.sinceNanos() != Long.MIN_VALUE) {
                for (long s = oldest; s < end; s++) {
                    FlowRing.Entry e = ring.get(s);
                    if (e == null || !matches(e)) continue;
                    if (!send(response(e, q))) return false;
                }
            }
            return true;
        }

        @Override
        public void run() {
            try {
                long cursor = ring.nextSeq();
                long lostSeen = ring.lost();
                if (!history(cursor)) return;
                if (!q.follow()) {
                    out.onCompleted();
                    return;
                }
                FlowRing.Entry newest = ring.get(cursor - 1);
                if (q.untilNanos() != Long.MAX_VALUE && newest != null && newest.timeNanos() > q.untilNanos()) {
                    out.onCompleted(); // the buffer already went past until
                    return;
                }
                while (!cancelled) {
                    long next = ring.awaitAfter(cursor, 1, TimeUnit.SECONDS);
                    if (cancelled) return;
                    if (next == cursor && q.untilNanos() != Long.MAX_VALUE && nowNanos() > q.untilNanos() + UNTIL_GRACE_NS) {
                        out.onCompleted(); // no flow for a while and the clock passed until
                        return;
                    }
                    long lostNow = ring.lost();
                    if (lostNow > lostSeen) {
                        if (!send(lost(LostEventSource.PERF_EVENT_RING_BUFFER, lostNow - lostSeen))) return;
                        lostSeen = lostNow;
                    }
                    for (; cursor < next; cursor++) {
                        FlowRing.Entry e = ring.get(cursor);
                        if (e == null) {
                            long oldest = ring.oldestSeq();
                            if (oldest > cursor) {
                                if (!send(lost(LostEventSource.HUBBLE_RING_BUFFER, oldest - cursor))) return;
                                cursor = oldest - 1;
                            }
                            continue;
                        }
                        if (e.timeNanos() > q.untilNanos()) {
                            out.onCompleted();
                            return;
                        }
                        if (e.timeNanos() < q.sinceNanos() || !q.filter().test(e.flow())) continue;
                        if (!send(response(e, q))) return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                if (!cancelled) out.onError(Status.fromThrowable(e).asRuntimeException());
            } finally {
                streams.release();
            }
        }
    }

    /** How long after {@code until} a follower waits for late flows before it ends on an idle buffer. */
    private static final long UNTIL_GRACE_NS = 2_000_000_000L;

    private static long nowNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private GetFlowsResponse lost(LostEventSource source, long n) {
        java.time.Instant now = java.time.Instant.now();
        return GetFlowsResponse.newBuilder()
                .setLostEvents(LostEvent.newBuilder().setSource(source).setNumEventsLost(n))
                .setNodeName(nodeName)
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .build();
    }

    @Override
    public void serverStatus(ServerStatusRequest request, StreamObserver<ServerStatusResponse> responseObserver) {
        responseObserver.onNext(ServerStatusResponse.newBuilder()
                .setNumFlows(ring.size())
                .setMaxFlows(ring.capacity())
                .setSeenFlows(ring.seen())
                .setUptimeNs(System.nanoTime() - startNanos)
                .setNumConnectedNodes(UInt32Value.of(1))
                .setNumUnavailableNodes(UInt32Value.of(0))
                .setVersion(version)
                .setFlowsRate(flowsRate())
                .build());
        responseObserver.onCompleted();
    }

    /** Flows per second over the last minute, from the times of the buffered flows (as Hubble computes it). */
    double flowsRate() {
        java.time.Instant now = java.time.Instant.now();
        long nowNs = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        long from = nowNs - 60_000_000_000L;
        long count = 0;
        long oldest = ring.oldestSeq();
        for (long s = ring.nextSeq() - 1; s >= oldest; s--) {
            FlowRing.Entry e = ring.get(s);
            if (e == null || e.timeNanos() < from) break;
            if (e.timeNanos() <= nowNs) count++;
        }
        return count / 60.0;
    }

    @Override
    public void getNodes(GetNodesRequest request, StreamObserver<GetNodesResponse> responseObserver) {
        responseObserver.onNext(GetNodesResponse.newBuilder().addNodes(Node.newBuilder()
                .setName(nodeName)
                .setVersion(version)
                .setAddress(address)
                .setState(NodeState.NODE_CONNECTED)
                .setTls(TLS.newBuilder().setEnabled(false))
                .setUptimeNs(System.nanoTime() - startNanos)
                .setNumFlows(ring.size())
                .setMaxFlows(ring.capacity())
                .setSeenFlows(ring.seen())).build());
        responseObserver.onCompleted();
    }

    @Override
    public void getNamespaces(GetNamespacesRequest request, StreamObserver<GetNamespacesResponse> responseObserver) {
        TreeSet<String> names = new TreeSet<>();
        long oldest = ring.oldestSeq();
        for (long s = ring.nextSeq() - 1; s >= oldest; s--) {
            FlowRing.Entry e = ring.get(s);
            if (e == null) break;
            String a = e.flow().getSource().getNamespace(), b = e.flow().getDestination().getNamespace();
            if (!a.isEmpty()) names.add(a);
            if (!b.isEmpty()) names.add(b);
        }
        List<Namespace> out = new ArrayList<>();
        for (String n : names) out.add(Namespace.newBuilder().setNamespace(n).build());
        responseObserver.onNext(GetNamespacesResponse.newBuilder().addAllNamespaces(out).build());
        responseObserver.onCompleted();
    }

    /** The events' window of a request; null when it is invalid (the call then ends with INVALID_ARGUMENT). */
    private static EventWindow window(long number, boolean first, boolean follow, Timestamp since, Timestamp until,
                                      StreamObserver<?> out) {
        try {
            return EventWindow.of(number, first, follow, since, until);
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return null;
        }
    }

    @Override
    public void getAgentEvents(GetAgentEventsRequest request, StreamObserver<GetAgentEventsResponse> responseObserver) {
        ServerCallStreamObserver<GetAgentEventsResponse> out = (ServerCallStreamObserver<GetAgentEventsResponse>) responseObserver;
        EventWindow w = window(request.getNumber(), request.getFirst(), request.getFollow(),
                request.hasSince() ? request.getSince() : null, request.hasUntil() ? request.getUntil() : null, out);
        if (w == null) return;
        long end = agentEvents.nextSeq();
        for (AgentEventHub.Entry e : w.history(agentEvents.from(0), end)) out.onNext(e.response());
        if (!w.follow()) {
            out.onCompleted();
            return;
        }
        Thread follower = Thread.ofVirtual().name("agentevents-follow").unstarted(() -> {
            long cursor = end;
            try {
                while (!out.isCancelled()) {
                    long next = agentEvents.awaitAfter(cursor, 1, TimeUnit.SECONDS);
                    if (out.isCancelled()) return;
                    for (AgentEventHub.Entry e : agentEvents.from(cursor)) {
                        if (e.timeNanos() > w.untilNanos()) {
                            out.onCompleted();
                            return;
                        }
                        if (e.timeNanos() >= w.sinceNanos()) out.onNext(e.response());
                    }
                    cursor = next;
                    if (w.untilNanos() != Long.MAX_VALUE && nowNanos() > w.untilNanos() + UNTIL_GRACE_NS) {
                        out.onCompleted();
                        return;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                if (!out.isCancelled()) out.onError(Status.fromThrowable(e).asRuntimeException());
            }
        });
        out.setOnCancelHandler(agentEvents::wakeAll);
        follower.start();
    }

    /**
     * Sieve's datapath reports no debug events (Cilium's come from its datapath's debug mode): like a Cilium
     * node without them, the stream ends at once, or with {@code follow} stays open, empty, until the client
     * cancels it or {@code until} passes.
     */
    @Override
    public void getDebugEvents(GetDebugEventsRequest request, StreamObserver<GetDebugEventsResponse> responseObserver) {
        ServerCallStreamObserver<GetDebugEventsResponse> out = (ServerCallStreamObserver<GetDebugEventsResponse>) responseObserver;
        EventWindow w = window(request.getNumber(), request.getFirst(), request.getFollow(),
                request.hasSince() ? request.getSince() : null, request.hasUntil() ? request.getUntil() : null, out);
        if (w == null) return;
        if (!w.follow()) {
            out.onCompleted();
            return;
        }
        out.setOnCancelHandler(() -> {});
        if (w.untilNanos() != Long.MAX_VALUE) {
            long delayNs = Math.max(0, w.untilNanos() - nowNanos());
            Thread.ofVirtual().name("debugevents-until").start(() -> {
                try {
                    TimeUnit.NANOSECONDS.sleep(delayNs);
                    if (!out.isCancelled()) out.onCompleted();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
    }
}
