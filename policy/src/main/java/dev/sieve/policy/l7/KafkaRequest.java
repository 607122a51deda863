package dev.sieve.policy.l7;

import java.util.List;

/** A Kafka request header as the proxy decodes it; {@code apiVersion} -1 when unknown. */
public record KafkaRequest(int apiKey, int apiVersion, String clientId, List<String> topics) implements L7Request {

    @Override
    public KafkaRule firstMatch(L7Rules rules) {
        for (KafkaRule r : rules.kafka()) if (r.matches(this)) return r;
        return null;
    }

    @Override
    public String describe() {
        return "Kafka " + KafkaApiKeys.name(apiKey) + " " + topics;
    }
}
