package dev.sieve.policy.l7;

import java.util.List;

/** A Kafka request header as the proxy decodes it; {@code apiVersion} -1 when unknown. */
public record KafkaRequest(int apiKey, int apiVersion, String clientId, List<String> topics) {}
