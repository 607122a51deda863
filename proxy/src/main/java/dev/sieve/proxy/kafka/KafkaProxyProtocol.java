package dev.sieve.proxy.kafka;

import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import io.netty.channel.Channel;
import java.time.Duration;

/**
 * The Kafka proxy: each request of a redirected connection is parsed with Kafka's own classes (kafka-clients'
 * {@code RequestHeader} and {@code AbstractRequest}), judged per topic with the connection's policy (the same
 * judge as {@code sieve policy trace --kafka-*}), and forwarded, split per topic (the allowed topics forwarded, the
 * denied ones answered {@code TOPIC_AUTHORIZATION_FAILED} in the broker's response) or answered in the broker's place
 * with the API's own error response, in correlation-id order. A frame it cannot parse closes the
 * connection (flow ERROR). One instance serves every connection of a node proxy: the topic IDs it learns from
 * relayed Metadata responses are shared by all of them.
 */
public final class KafkaProxyProtocol implements ProxyProtocol {

    /** Kafka's own default request size bound ({@code socket.request.max.bytes}, 100 MiB). */
    public static final int DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;
    /** Responses carry fetched records (a client's {@code fetch.max.bytes} is 50 MiB by default). */
    public static final int DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
    /** How long a client may stop in the middle of a request before its connection is closed. */
    public static final Duration DEFAULT_FRAME_STALL = Duration.ofSeconds(30);
    static final int TOPIC_ID_CAPACITY = 100_000;

    private final int maxRequestBytes;
    private final int maxResponseBytes;
    private final Duration frameStall;
    private final TopicIds topicIds = new TopicIds(TOPIC_ID_CAPACITY);

    public KafkaProxyProtocol() {
        this(DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_FRAME_STALL);
    }

    public KafkaProxyProtocol(int maxRequestBytes, int maxResponseBytes, Duration frameStall) {
        if (maxRequestBytes < 64 || maxResponseBytes < 64) throw new IllegalArgumentException("Kafka frame bounds too small");
        if (frameStall.isNegative() || frameStall.isZero()) throw new IllegalArgumentException("frameStall must be positive");
        this.maxRequestBytes = maxRequestBytes;
        this.maxResponseBytes = maxResponseBytes;
        this.frameStall = frameStall;
    }

    @Override
    public void init(Channel client, ProxiedConnection connection) {
        new KafkaConnection(client, connection, topicIds, maxRequestBytes, maxResponseBytes, frameStall.toNanos()).start();
    }

    TopicIds topicIds() {
        return topicIds;
    }
}
