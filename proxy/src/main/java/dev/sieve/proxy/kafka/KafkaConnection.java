package dev.sieve.proxy.kafka;

import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.kafka.KafkaJudge.Judgement;
import dev.sieve.proxy.kafka.TopicSplit.TopicRef;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.DecoderException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * One proxied Kafka connection: the client's requests in, the broker's responses out, on one event loop. Every
 * request gets its place in {@link #inFlight}; a forwarded one waits for the broker's response, a denied one holds
 * the proxy's error response, and responses leave strictly in request (correlation-id) order.
 */
final class KafkaConnection {

    private static final Logger LOG = Logger.getLogger(KafkaConnection.class.getName());
    private static final int MAX_FETCH_SESSIONS = 1024;
    /** Requests awaiting their turn to be answered; beyond this the client is not read until answers drain. */
    private static final int MAX_IN_FLIGHT = 1024;
    /**
     * Frames are gathered whole (a request is judged before any of it leaves), so reads are merged into buffers of
     * tens of KB (produce batches) to MBs (fetch answers). Pooled arenas serve those from reused chunks; the default
     * adaptive allocator falls back to a fresh, zeroed native buffer for each such size, which cost a fifth of the
     * proxy's CPU under load.
     */
    private static final ByteBufAllocator FRAMES = PooledByteBufAllocator.DEFAULT;
    /** What a client's split frame may claim before its bytes arrive (produce batches are tens of KB). */
    private static final int CLIENT_FRAME_UPFRONT = 256 * 1024;
    /** The broker's answers (fetched records) are sized from their prefix up to this. */
    private static final int BROKER_FRAME_UPFRONT = 4 * 1024 * 1024;

    /** One request and, once known, its response. */
    private static final class Exchange {
        final int apiKey;
        final short version;
        final int correlationId;
        final String clientId;
        final List<String> topics;
        final Judgement judgement;
        final long startNanos = System.nanoTime();
        final boolean forwarded;
        boolean allTopicsMetadata;
        boolean parseResponse = true;
        FetchRequest fetch;
        List<String> fetchTopics = List.of();
        /** Fetch: the session's partitions answered TOPIC_AUTHORIZATION_FAILED (those of the request included). */
        Map<TopicRef, Set<Integer>> fetchDenied = Map.of();
        /** A split request: each topic's own verdict; the denied ones were taken out of the forwarded request. */
        Map<String, Judgement> perTopic;
        /** A split request: the entries answering its denied topics, merged into the broker's response. */
        List<Message> errorEntries = List.of();
        ByteBuf response;
        int errorCode;

        Exchange(int apiKey, short version, int correlationId, String clientId, List<String> topics,
                 Judgement judgement, boolean forwarded) {
            this.apiKey = apiKey;
            this.version = version;
            this.correlationId = correlationId;
            this.clientId = clientId;
            this.topics = topics;
            this.judgement = judgement;
            this.forwarded = forwarded;
        }
    }

    private final Channel client;
    private final ProxiedConnection connection;
    private final TopicIds topicIds;
    private final int maxRequestBytes;
    private final int maxResponseBytes;
    private final long stallNanos;
    private final KafkaEvents events;
    private final ArrayDeque<Exchange> inFlight = new ArrayDeque<>();
    /**
     * Fetch sessions (KIP-227) the broker opened on this connection: the topics judged into them, and the partitions
     * the client has in its session but the broker has not (denied; answered in every response, as the broker
     * answers a partition in error in every response of a session).
     */
    private final Map<Integer, FetchSession> fetchSessions = new HashMap<>();

    private static final class FetchSession {
        final Set<String> topics = new LinkedHashSet<>();
        Map<TopicRef, Set<Integer>> denied = Map.of();
    }
    /** Verdicts by request shape: a connection's policy is fixed, and clients repeat the same few requests. */
    private final Map<VerdictKey, Judgement> judged = new HashMap<>();
    private Channel upstream;
    private boolean closed;
    private boolean pausedForInFlight;

    private record VerdictKey(int apiKey, short version, String clientId, Set<String> topics) {}

    private Judgement judge(int apiKey, short version, String clientId, Set<String> topics) {
        VerdictKey key = new VerdictKey(apiKey, version, clientId, topics);
        Judgement j = judged.get(key);
        if (j == null) {
            j = KafkaJudge.judge(connection.policy(), apiKey, version, clientId, topics);
            if (judged.size() >= 4096) judged.clear();
            judged.put(key, j);
        }
        return j;
    }

    KafkaConnection(Channel client, ProxiedConnection connection, TopicIds topicIds, int maxRequestBytes, int maxResponseBytes,
                    long stallNanos) {
        this.client = client;
        this.stallNanos = stallNanos;
        this.connection = connection;
        this.topicIds = topicIds;
        this.maxRequestBytes = maxRequestBytes;
        this.maxResponseBytes = maxResponseBytes;
        this.events = new KafkaEvents(connection);
    }

    void start() {
        client.config().setAutoRead(false);
        client.config().setAllocator(FRAMES);
        client.pipeline().addLast("kafka-request-frames", new KafkaFrames(maxRequestBytes, CLIENT_FRAME_UPFRONT, stallNanos));
        client.pipeline().addLast("kafka-requests", new Requests());
        ChannelFuture connect = connection.upstream().connect(client.eventLoop(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.config().setAllocator(FRAMES);
                ch.pipeline().addLast("kafka-response-frames", new KafkaFrames(maxResponseBytes, BROKER_FRAME_UPFRONT, 0));
                ch.pipeline().addLast("kafka-responses", new Responses());
            }
        });
        upstream = connect.channel();
        connect.addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                client.config().setAutoRead(true);
                client.read();
            } else {
                LOG.log(Level.FINE, "kafka: cannot reach " + connection.originalDestination(), f.cause());
                close();
            }
        });
        client.closeFuture().addListener(f -> close());
        upstream.closeFuture().addListener(f -> close());
    }

    private void close() {
        if (closed) return;
        closed = true;
        for (Exchange x : inFlight) if (x.response != null) x.response.release();
        inFlight.clear();
        client.close();
        if (upstream != null) upstream.close();
    }

    // ---- requests ------------------------------------------------------------------------------------------

    private final class Requests extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (closed) {
                frame.release();
                return;
            }
            onRequest(frame);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (upstream != null) upstream.flush();
            client.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (upstream != null) upstream.config().setAutoRead(client.isWritable());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException) {
                // a length below zero (e.g. 2 GB) or beyond the bound: not Kafka, or not a request we accept;
                // or a client that stopped in the middle of a frame
                events.error(-1, -1, 0);
                LOG.fine(() -> "kafka: closing " + connection.client() + ": " + cause.getMessage());
            } else if (!(cause instanceof IOException)) {
                LOG.log(Level.WARNING, "kafka: closing " + connection.client(), cause);
            }
            close();
        }
    }

    private void onRequest(ByteBuf frame) {
        ByteBuffer buf = frame.nioBuffer(frame.readerIndex() + 4, frame.readableBytes() - 4);
        int rawKey = buf.remaining() >= 2 ? buf.getShort(0) : -1;
        int rawVersion = buf.remaining() >= 4 ? buf.getShort(2) : -1;
        int rawCorrelation = buf.remaining() >= 8 ? buf.getInt(4) : 0;
        RequestHeader header;
        AbstractRequest request = null;
        try {
            header = RequestHeader.parse(buf);
            ApiKeys api = header.apiKey();
            boolean passThrough = api == ApiKeys.API_VERSIONS && !api.isVersionSupported(header.apiVersion());
            if (!passThrough) {
                request = AbstractRequest.parseRequest(api, header.apiVersion(), new ByteBufferAccessor(buf)).request;
            }
        } catch (RuntimeException e) {
            frame.release();
            events.error(rawKey, rawVersion, rawCorrelation);
            LOG.fine(() -> "kafka: closing " + connection.client() + ": cannot parse request (api key " + rawKey
                    + ", version " + rawVersion + "): " + e);
            close();
            return;
        }
        int apiKey = header.apiKey().id;
        short version = header.apiVersion();
        String clientId = header.clientId();
        RequestTopics topics = request == null ? RequestTopics.NONE : RequestTopics.of(request, topicIds);

        List<String> shown = new ArrayList<>(topics.names());
        for (Uuid id : topics.unknownIds()) shown.add(id.toString());

        Errors denial = Errors.TOPIC_AUTHORIZATION_FAILED;
        Judgement j;
        Set<String> judgedTopics = new LinkedHashSet<>(topics.names());
        FetchRequest fetch = request instanceof FetchRequest f ? f : null;
        FetchSession session = null;
        if (!topics.unknownIds().isEmpty()) {
            denial = Errors.UNKNOWN_TOPIC_ID;
            j = new Judgement(dev.sieve.policy.trace.Verdict.DROPPED, List.of(), List.of(),
                    "topic IDs " + topics.unknownIds() + " unnamed by any relayed Metadata response");
        } else if (fetch != null && fetch.data().sessionId() != 0 && !fetchSessions.containsKey(fetch.data().sessionId())) {
            denial = Errors.FETCH_SESSION_ID_NOT_FOUND;
            j = new Judgement(dev.sieve.policy.trace.Verdict.DROPPED, List.of(), List.of(),
                    "fetch session " + fetch.data().sessionId() + " was not opened on this connection");
        } else if (topics.allTopics()) {
            Judgement whole = judge(apiKey, version, clientId, Set.of());
            j = whole.allowed() ? whole : new Judgement(dev.sieve.policy.trace.Verdict.FORWARDED, List.of(), List.of(),
                    "Metadata for all topics: the answer shows only the topics the rules allow");
        } else {
            if (fetch != null && fetch.data().sessionId() != 0) {
                session = fetchSessions.get(fetch.data().sessionId());
                judgedTopics.addAll(session.topics);
            }
            j = judge(apiKey, version, clientId, judgedTopics);
            boolean sessionDenials = session != null && fetch.data().sessionEpoch() > 0 && !session.denied.isEmpty();
            if ((!j.allowed() || sessionDenials) && TopicSplit.splits(request)
                    && split(frame, header, request, j, session)) {
                return;
            }
        }
        Verdict verdict = KafkaEvents.flowVerdict(j.verdict());
        events.request(apiKey, version, header.correlationId(), shown, verdict, j.egressRules(), j.ingressRules());

        if (j.allowed()) {
            Exchange x = new Exchange(apiKey, version, header.correlationId(), clientId, shown, j, true);
            x.allTopicsMetadata = topics.allTopics();
            x.parseResponse = request != null;
            if (fetch != null) {
                x.fetch = fetch;
                x.fetchTopics = List.copyOf(judgedTopics);
                if (session != null && fetch.data().sessionEpoch() > 0) x.fetchDenied = session.denied;
            }
            boolean answered = !(request instanceof ProduceRequest p && p.acks() == 0);
            if (answered) enqueue(x);
            upstream.write(frame);
            return;
        }
        Exchange x = new Exchange(apiKey, version, header.correlationId(), clientId, shown, j, false);
        AbstractResponse error;
        try {
            error = request == null ? null : request.getErrorResponse(0, denial.exception());
        } finally {
            frame.release();
        }
        if (error == null) {
            // Produce with acks=0 expects no answer (the broker would not send one either); an ApiVersions of a
            // version too new to parse cannot be answered in its format: close
            if (request == null) close();
            return;
        }
        x.errorCode = denial.code();
        x.response = serialize(client.alloc(), error.data(), header.apiKey(), version, header.correlationId());
        enqueue(x);
        drain();
    }

    /**
     * Answers a request per topic, as the broker's own authorizer does ({@link TopicSplit}): the denied topics are
     * taken out of the forwarded request (so the broker never sees them, nor auto-creates them) and put back into
     * its answer with {@code TOPIC_AUTHORIZATION_FAILED}. Returns false when the request is better answered whole
     * (every topic denied and nothing to forward: the API's own error response).
     *
     * <p>Metadata v1+ is forwarded even when every topic is denied (its answer carries the brokers, which clients
     * need; an error answer without them is ignored), and so is a Fetch of a session (KIP-227): the broker's session
     * epoch must advance with the client's. A Fetch session's denied partitions stay in the client's session but
     * never enter the broker's: every response of the session answers them again, the client's forgetting them is
     * taken out of the forwarded request, and a sessionless Fetch of denied topics only is answered per partition by
     * the proxy (kafka-clients' own error response for Fetch is a top-level error, which consumers ignore).
     */
    private boolean split(ByteBuf frame, RequestHeader header, AbstractRequest request, Judgement whole, FetchSession session) {
        int apiKey = header.apiKey().id;
        short version = header.apiVersion();
        String clientId = header.clientId();
        Map<String, Judgement> perTopic = new LinkedHashMap<>();
        Map<TopicRef, String> names = new HashMap<>();
        for (TopicRef ref : TopicSplit.topics(request)) {
            String name = ref.name() != null ? ref.name() : topicIds.name(ref.id());
            if (name == null) return false; // unnamed IDs are answered whole, before this
            names.put(ref, name);
            perTopic.computeIfAbsent(name, t -> judge(apiKey, version, clientId, Set.of(t)));
        }
        Predicate<TopicRef> denied = ref -> !perTopic.get(names.get(ref)).allowed();
        boolean anyAllowed = perTopic.values().stream().anyMatch(Judgement::allowed);
        boolean anyDenied = perTopic.values().stream().anyMatch(t -> !t.allowed());
        FetchRequest fetch = request instanceof FetchRequest f ? f : null;
        boolean forwardAnyway = (request instanceof MetadataRequest && version > 0) || (fetch != null && fetch.data().sessionId() != 0);
        if (!anyAllowed && !forwardAnyway && !TopicSplit.answersLocally(request)) return false;

        if (perTopic.isEmpty()) {
            events.request(apiKey, version, header.correlationId(), List.of(), KafkaEvents.flowVerdict(whole.verdict()),
                    whole.egressRules(), whole.ingressRules());
        }
        for (Map.Entry<String, Judgement> e : perTopic.entrySet()) {
            Judgement tj = e.getValue();
            events.request(apiKey, version, header.correlationId(), List.of(e.getKey()), KafkaEvents.flowVerdict(tj.verdict()),
                    tj.egressRules(), tj.ingressRules());
        }
        Judgement first = perTopic.values().stream().filter(Judgement::allowed).findFirst().orElse(whole);
        Exchange x = new Exchange(apiKey, version, header.correlationId(), clientId, List.copyOf(perTopic.keySet()), first, true);
        x.perTopic = perTopic;
        ApiMessage forwardData = anyDenied ? TopicSplit.without(request, denied) : null;
        List<Message> entries;
        if (fetch != null) {
            x.fetch = (FetchRequest) request;
            x.fetchTopics = perTopic.entrySet().stream().filter(e -> e.getValue().allowed()).map(Map.Entry::getKey).toList();
            Map<TopicRef, Set<Integer>> sessionDenied = new LinkedHashMap<>();
            boolean incremental = session != null && fetch.data().sessionEpoch() > 0;
            if (incremental) session.denied.forEach((t, ps) -> sessionDenied.put(t, new java.util.TreeSet<>(ps)));
            if (incremental && !fetch.data().forgottenTopicsData().isEmpty()) {
                // the client forgets partitions: those the broker never had leave the proxy's session, not the broker's
                FetchRequestData d = (FetchRequestData) (forwardData != null ? forwardData : fetch.data().duplicate());
                boolean touched = false;
                var it = d.forgottenTopicsData().iterator();
                while (it.hasNext()) {
                    FetchRequestData.ForgottenTopic ft = it.next();
                    Set<Integer> ps = sessionDenied.get(TopicRef.of(ft.topic(), ft.topicId()));
                    if (ps == null) continue;
                    touched = true;
                    ps.removeAll(ft.partitions());
                    if (ps.isEmpty()) sessionDenied.remove(TopicRef.of(ft.topic(), ft.topicId()));
                    ft.partitions().removeAll(session.denied.get(TopicRef.of(ft.topic(), ft.topicId())));
                    if (ft.partitions().isEmpty()) it.remove();
                }
                if (touched) forwardData = d;
            }
            for (FetchRequestData.FetchTopic t : fetch.data().topics()) {
                TopicRef ref = TopicRef.of(t.topic(), t.topicId());
                if (!denied.test(ref)) continue;
                Set<Integer> ps = sessionDenied.computeIfAbsent(ref, k -> new java.util.TreeSet<>());
                for (FetchRequestData.FetchPartition p : t.partitions()) ps.add(p.partition());
            }
            x.fetchDenied = sessionDenied;
            entries = new ArrayList<>();
            sessionDenied.forEach((t, ps) -> entries.add(TopicSplit.fetchErrorEntry(t, ps, Errors.TOPIC_AUTHORIZATION_FAILED)));
        } else {
            entries = anyDenied ? TopicSplit.errorEntries(request, denied, Errors.TOPIC_AUTHORIZATION_FAILED) : List.of();
        }
        if (!anyAllowed && !forwardAnyway) {
            // denied topics only, answered per partition by the proxy (a Fetch without a session, or its new session)
            frame.release();
            x.errorCode = Errors.TOPIC_AUTHORIZATION_FAILED.code();
            x.response = serialize(client.alloc(), TopicSplit.localAnswer(request, entries), header.apiKey(), version,
                    header.correlationId());
            enqueue(x);
            drain();
            return true;
        }
        ByteBuf out = frame;
        if (forwardData != null) {
            ByteBuffer b = RequestUtils.serialize(header.data(), header.headerVersion(), forwardData, version);
            out = client.alloc().buffer(4 + b.remaining());
            out.writeInt(b.remaining());
            out.writeBytes(b);
            frame.release();
        }
        if (entries != null) { // null: Produce with acks=0, which expects no answer
            x.errorEntries = entries;
            enqueue(x);
        }
        upstream.write(out);
        return true;
    }

    // ---- responses -----------------------------------------------------------------------------------------

    private final class Responses extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (closed) {
                frame.release();
                return;
            }
            onResponse(frame);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            client.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            client.config().setAutoRead(upstream.isWritable() && !pausedForInFlight);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof IOException)) LOG.log(Level.WARNING, "kafka: upstream " + connection.originalDestination(), cause);
            close();
        }
    }

    private void onResponse(ByteBuf frame) {
        Exchange x = null;
        for (Exchange e : inFlight) {
            if (e.forwarded && e.response == null) {
                x = e;
                break;
            }
        }
        if (x == null) {
            frame.release();
            LOG.fine(() -> "kafka: unsolicited response from " + connection.originalDestination());
            close();
            return;
        }
        ByteBuf out = frame;
        try {
            ByteBuffer buf = frame.nioBuffer(frame.readerIndex() + 4, frame.readableBytes() - 4);
            ApiKeys api = ApiKeys.forId(x.apiKey);
            ResponseHeader header = ResponseHeader.parse(buf, api.responseHeaderVersion(x.version));
            if (header.correlationId() != x.correlationId) {
                throw new IllegalStateException("response correlation id " + header.correlationId() + ", expected " + x.correlationId);
            }
            if (x.parseResponse) {
                AbstractResponse response = AbstractResponse.parseResponse(api, new ByteBufferAccessor(buf), x.version);
                x.errorCode = errorCode(response);
                boolean merge = !x.errorEntries.isEmpty();
                boolean rewritten = switch (response) {
                    case MetadataResponse m -> metadata(x, m);
                    case ApiVersionsResponse a -> apiVersions(a);
                    case FetchResponse f -> {
                        merge &= fetchSession(x, f);
                        yield false;
                    }
                    default -> false;
                };
                if (merge) TopicSplit.merge(api, response.data(), x.errorEntries);
                if (rewritten || merge) {
                    out = serialize(client.alloc(), response.data(), api, x.version, x.correlationId);
                    frame.release();
                }
            }
        } catch (RuntimeException e) {
            if (out == frame) frame.release();
            else out.release();
            LOG.fine(() -> "kafka: closing " + connection.client() + ": cannot parse the response from "
                    + connection.originalDestination() + ": " + e);
            events.error(x.apiKey, x.version, x.correlationId);
            close();
            return;
        }
        x.response = out;
        drain();
    }

    /** Learns topic IDs; for a Metadata request for all topics, keeps only the topics the rules let it describe. */
    private boolean metadata(Exchange x, MetadataResponse m) {
        MetadataResponseData data = m.data();
        boolean removed = false;
        var it = data.topics().iterator();
        while (it.hasNext()) {
            MetadataResponseData.MetadataResponseTopic t = it.next();
            topicIds.learn(t.topicId(), t.name());
            if (x.allTopicsMetadata && (t.name() == null
                    || !KafkaJudge.mayDescribe(connection.policy(), x.version, x.clientId, t.name()))) {
                it.remove();
                removed = true;
            }
        }
        return removed;
    }

    /** Caps the versions the broker offers at those this proxy can parse, so clients never send one it cannot. */
    private static boolean apiVersions(ApiVersionsResponse a) {
        boolean changed = false;
        var it = a.data().apiKeys().iterator();
        while (it.hasNext()) {
            ApiVersionsResponseData.ApiVersion v = it.next();
            if (!ApiKeys.hasId(v.apiKey())) {
                it.remove();
                changed = true;
                continue;
            }
            short latest = ApiKeys.forId(v.apiKey()).latestVersion(true);
            if (v.maxVersion() > latest) {
                v.setMaxVersion(latest);
                changed = true;
            }
        }
        return changed;
    }

    /**
     * Keeps the session the broker opened or moved on (its judged topics and denied partitions); returns whether the
     * denied partitions belong in this response (not when it is a top-level error, which carries no partitions).
     */
    private boolean fetchSession(Exchange x, FetchResponse f) {
        int requested = x.fetch.data().sessionId();
        int epoch = x.fetch.data().sessionEpoch();
        if (f.error() != Errors.NONE || epoch == -1) {
            fetchSessions.remove(requested);
            return f.error() == Errors.NONE;
        }
        int id = f.sessionId();
        if (epoch == 0 && requested != 0 && requested != id) fetchSessions.remove(requested);
        if (id == 0) return true;
        if (fetchSessions.size() >= MAX_FETCH_SESSIONS && !fetchSessions.containsKey(id)) fetchSessions.clear();
        FetchSession session = epoch == 0 ? null : fetchSessions.get(id);
        if (session == null) {
            session = new FetchSession();
            fetchSessions.put(id, session);
        }
        session.topics.addAll(x.fetchTopics);
        session.denied = x.fetchDenied;
        return true;
    }

    private static int errorCode(AbstractResponse response) {
        Map<Errors, Integer> counts = response.errorCounts();
        Errors worst = Errors.NONE;
        int most = 0;
        for (Map.Entry<Errors, Integer> e : counts.entrySet()) {
            if (e.getKey() != Errors.NONE && e.getValue() > most) {
                worst = e.getKey();
                most = e.getValue();
            }
        }
        return worst.code();
    }

    private void enqueue(Exchange x) {
        inFlight.add(x);
        if (inFlight.size() >= MAX_IN_FLIGHT && !pausedForInFlight) {
            pausedForInFlight = true;
            client.config().setAutoRead(false);
        }
    }

    private void drain() {
        while (!inFlight.isEmpty() && inFlight.peek().response != null) {
            Exchange x = inFlight.poll();
            client.write(x.response);
            x.response = null;
            long latency = System.nanoTime() - x.startNanos;
            if (x.perTopic != null && !x.perTopic.isEmpty()) {
                for (Map.Entry<String, Judgement> e : x.perTopic.entrySet()) {
                    Judgement j = e.getValue();
                    events.response(x.apiKey, x.version, x.correlationId, List.of(e.getKey()),
                            j.allowed() ? x.errorCode : Errors.TOPIC_AUTHORIZATION_FAILED.code(), latency,
                            responseVerdict(j), j.egressRules(), j.ingressRules());
                }
                continue;
            }
            List<RuleInfo> eg = x.judgement.egressRules(), in = x.judgement.ingressRules();
            events.response(x.apiKey, x.version, x.correlationId, x.topics, x.errorCode, latency,
                    responseVerdict(x.judgement), eg, in);
        }
        client.flush();
        if (pausedForInFlight && inFlight.size() < MAX_IN_FLIGHT / 2) {
            pausedForInFlight = false;
            client.config().setAutoRead(upstream.isWritable());
        }
    }

    /**
     * A response reaches the client either way: the proxy's own answer to a denied request is FORWARDED with its
     * error code (as Envoy reports the 403 of a denied HTTP request); the request's flow carries the DROPPED.
     */
    private static Verdict responseVerdict(Judgement j) {
        return j.allowed() ? KafkaEvents.flowVerdict(j.verdict()) : Verdict.FORWARDED;
    }

    static ByteBuf serialize(ByteBufAllocator alloc, ApiMessage response, ApiKeys api, short version, int correlationId) {
        ByteBuffer body = RequestUtils.serialize(new ResponseHeaderData().setCorrelationId(correlationId),
                api.responseHeaderVersion(version), response, version);
        ByteBuf out = alloc.buffer(4 + body.remaining());
        out.writeInt(body.remaining());
        out.writeBytes(body);
        return out;
    }
}
