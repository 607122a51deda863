package dev.sieve.proxy.kafka;

import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.kafka.KafkaJudge.Judgement;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
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
        /** Metadata: each topic's own verdict; the denied ones were taken out of the forwarded request. */
        Map<String, Judgement> perTopic;
        List<String> deniedTopics = List.of();
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
    /** Fetch sessions (KIP-227) the broker opened on this connection, with the topics judged into them. */
    private final Map<Integer, Set<String>> fetchSessions = new HashMap<>();
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

        if (request instanceof MetadataRequest m && !topics.allTopics() && topics.unknownIds().isEmpty()
                && (version > 0 || topics.names().stream().anyMatch(t -> KafkaJudge.mayDescribe(connection.policy(), version, clientId, t)))) {
            metadataRequest(frame, header, m, topics);
            return;
        }
        Errors denial = Errors.TOPIC_AUTHORIZATION_FAILED;
        Judgement j;
        Set<String> judgedTopics = new LinkedHashSet<>(topics.names());
        FetchRequest fetch = request instanceof FetchRequest f ? f : null;
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
            if (fetch != null && fetch.data().sessionId() != 0) judgedTopics.addAll(fetchSessions.get(fetch.data().sessionId()));
            j = judge(apiKey, version, clientId, judgedTopics);
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
        x.response = serialize(client.alloc(), error, header.apiKey(), version, header.correlationId());
        enqueue(x);
        drain();
    }

    /**
     * Metadata answers per topic, as the broker does for topics a client may not describe: the denied topics are
     * taken out of the forwarded request (so the broker never auto-creates them) and put back into the answer with
     * {@code TOPIC_AUTHORIZATION_FAILED}. (A whole error response carries no brokers, which clients ignore.)
     */
    private void metadataRequest(ByteBuf frame, RequestHeader header, MetadataRequest m, RequestTopics topics) {
        short version = header.apiVersion();
        Map<String, Judgement> each = KafkaJudge.judgeEach(connection.policy(), header.apiKey().id, version, header.clientId(), topics.names());
        List<String> denied = new ArrayList<>();
        Judgement first = null;
        for (Map.Entry<String, Judgement> e : each.entrySet()) {
            Judgement j = e.getValue();
            if (!j.allowed()) denied.add(e.getKey());
            else if (first == null) first = j;
            events.request(header.apiKey().id, version, header.correlationId(), List.of(e.getKey()),
                    KafkaEvents.flowVerdict(j.verdict()), j.egressRules(), j.ingressRules());
        }
        ByteBuf out = frame;
        if (!denied.isEmpty()) {
            MetadataRequestData d = m.data().duplicate();
            d.topics().removeIf(t -> denied.contains(t.name() != null ? t.name() : topicIds.name(t.topicId())));
            ByteBuffer b = RequestUtils.serialize(header.data(), header.headerVersion(), d, version);
            out = client.alloc().buffer(4 + b.remaining());
            out.writeInt(b.remaining());
            out.writeBytes(b);
            frame.release();
        }
        Exchange x = new Exchange(header.apiKey().id, version, header.correlationId(), header.clientId(),
                List.copyOf(each.keySet()), first != null ? first : each.values().iterator().next(), true);
        x.perTopic = each;
        x.deniedTopics = List.copyOf(denied);
        enqueue(x);
        upstream.write(out);
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
                AbstractResponse rewritten = switch (response) {
                    case MetadataResponse m -> metadata(x, m);
                    case ApiVersionsResponse a -> apiVersions(a);
                    case FetchResponse f -> {
                        fetchSession(x, f);
                        yield null;
                    }
                    default -> null;
                };
                if (rewritten != null) {
                    out = serialize(client.alloc(), rewritten, api, x.version, x.correlationId);
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
    private AbstractResponse metadata(Exchange x, MetadataResponse m) {
        MetadataResponseData data = m.data();
        boolean removed = !x.deniedTopics.isEmpty();
        for (String t : x.deniedTopics) {
            if (data.topics().find(t) != null) continue;
            data.topics().add(new MetadataResponseData.MetadataResponseTopic().setName(t)
                    .setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
        }
        var it = data.topics().iterator();
        while (it.hasNext()) {
            MetadataResponseData.MetadataResponseTopic t = it.next();
            topicIds.learn(t.topicId(), t.name());
            if (x.deniedTopics.contains(t.name())) continue;
            if (x.allTopicsMetadata && (t.name() == null
                    || !KafkaJudge.mayDescribe(connection.policy(), x.version, x.clientId, t.name()))) {
                it.remove();
                removed = true;
            }
        }
        return removed ? new MetadataResponse(data, x.version) : null;
    }

    /** Caps the versions the broker offers at those this proxy can parse, so clients never send one it cannot. */
    private static AbstractResponse apiVersions(ApiVersionsResponse a) {
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
        return changed ? new ApiVersionsResponse(a.data()) : null;
    }

    private void fetchSession(Exchange x, FetchResponse f) {
        int requested = x.fetch.data().sessionId();
        if (f.error() != Errors.NONE || x.fetch.data().sessionEpoch() == -1) {
            fetchSessions.remove(requested);
            return;
        }
        int id = f.sessionId();
        if (id == 0) return;
        if (fetchSessions.size() >= MAX_FETCH_SESSIONS && !fetchSessions.containsKey(id)) fetchSessions.clear();
        fetchSessions.computeIfAbsent(id, k -> new LinkedHashSet<>()).addAll(x.fetchTopics);
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
            if (x.perTopic != null) {
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

    static ByteBuf serialize(ByteBufAllocator alloc, AbstractResponse response, ApiKeys api, short version, int correlationId) {
        ByteBuffer body = RequestUtils.serialize(new ResponseHeaderData().setCorrelationId(correlationId),
                api.responseHeaderVersion(version), response.data(), version);
        ByteBuf out = alloc.buffer(4 + body.remaining());
        out.writeInt(body.remaining());
        out.writeBytes(body);
        return out;
    }
}
