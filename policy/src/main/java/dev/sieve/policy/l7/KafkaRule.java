package dev.sieve.policy.l7;

import java.util.Set;

/**
 * A Kafka rule. {@code apiKeys} comes from apiKey or role (empty = any key); {@code apiVersion} -1 and null
 * strings mean any. A topic constraint applies to requests that carry topics.
 */
public record KafkaRule(String role, String apiKey, Set<Integer> apiKeys, int apiVersion, String clientId, String topic) {

    public boolean matches(KafkaRequest req) {
        if (!apiKeys.isEmpty() && !apiKeys.contains(req.apiKey())) return false;
        if (apiVersion >= 0 && apiVersion != req.apiVersion()) return false;
        if (clientId != null && !clientId.equals(req.clientId())) return false;
        if (topic != null && KafkaApiKeys.TOPIC_KEYS.contains(req.apiKey())) {
            if (req.topics().isEmpty()) return false;
            for (String t : req.topics()) if (!topic.equals(t)) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("kafka");
        if (role != null) sb.append(" role=").append(role);
        if (apiKey != null) sb.append(" apiKey=").append(apiKey);
        if (apiVersion >= 0) sb.append(" apiVersion=").append(apiVersion);
        if (clientId != null) sb.append(" clientID=").append(clientId);
        if (topic != null) sb.append(" topic=").append(topic);
        return sb.toString();
    }
}
