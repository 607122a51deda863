package dev.sieve.proxy.kafka;

import dev.sieve.api.flow.Kafka;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.ProxiedConnection;
import java.util.List;

/**
 * The proxy's Hubble Kafka records. As Cilium's Kafka proxy logged one record per topic, a request (and its
 * response) that names several topics is reported once per topic; one without topics once, with an empty topic.
 * Summaries are Hubble's ({@code pkg/hubble/parser/seven}): {@code Kafka request produce correlation id 7 topic
 * 'payments'} and {@code Kafka response produce correlation id 7 topic 'payments' return code 29}.
 */
final class KafkaEvents {

    private final ProxiedConnection connection;

    KafkaEvents(ProxiedConnection connection) {
        this.connection = connection;
    }

    void request(int apiKey, int apiVersion, int correlationId, List<String> topics, Verdict verdict,
                 List<RuleInfo> egressRules, List<RuleInfo> ingressRules) {
        for (String topic : topics.isEmpty() ? List.of("") : topics) {
            Kafka k = Kafka.newBuilder().setApiKey(KafkaApiKeys.name(apiKey)).setApiVersion(apiVersion)
                    .setCorrelationId(correlationId).setTopic(topic).build();
            emit(false, verdict, egressRules, ingressRules, Layer7.newBuilder().setType(L7FlowType.REQUEST).setKafka(k).build(),
                    "Kafka request " + k.getApiKey() + " correlation id " + correlationId + " topic '" + topic + "'");
        }
    }

    void response(int apiKey, int apiVersion, int correlationId, List<String> topics, int errorCode, long latencyNanos,
                  Verdict verdict, List<RuleInfo> egressRules, List<RuleInfo> ingressRules) {
        for (String topic : topics.isEmpty() ? List.of("") : topics) {
            Kafka k = Kafka.newBuilder().setApiKey(KafkaApiKeys.name(apiKey)).setApiVersion(apiVersion)
                    .setCorrelationId(correlationId).setTopic(topic).setErrorCode(errorCode).build();
            Layer7 l7 = Layer7.newBuilder().setType(L7FlowType.RESPONSE).setLatencyNs(Math.max(0, latencyNanos)).setKafka(k).build();
            emit(true, verdict, egressRules, ingressRules, l7, "Kafka response " + k.getApiKey() + " correlation id "
                    + correlationId + " topic '" + topic + "' return code " + errorCode);
        }
    }

    /** A frame the proxy could not parse: verdict ERROR, with what the header gave (api key -1 when nothing). */
    void error(int apiKey, int apiVersion, int correlationId) {
        Kafka k = Kafka.newBuilder().setApiKey(apiKey < 0 ? "" : KafkaApiKeys.name(apiKey)).setApiVersion(Math.max(apiVersion, 0))
                .setCorrelationId(correlationId).build();
        emit(false, Verdict.ERROR, List.of(), List.of(), Layer7.newBuilder().setType(L7FlowType.REQUEST).setKafka(k).build(),
                "Kafka request " + k.getApiKey() + " correlation id " + correlationId + " topic ''");
    }

    private void emit(boolean response, Verdict verdict, List<RuleInfo> egressRules, List<RuleInfo> ingressRules,
                      Layer7 l7, String summary) {
        java.time.Instant t = java.time.Instant.now();
        long now = t.getEpochSecond() * 1_000_000_000L + t.getNano();
        connection.events().accept(new L7Event(now,
                response ? connection.originalDestination() : connection.client(),
                response ? connection.client() : connection.originalDestination(),
                6, connection.ingress(), verdict, egressRules, ingressRules, l7, summary, connection.proxyPort()));
    }

    static Verdict flowVerdict(dev.sieve.policy.trace.Verdict v) {
        return switch (v) {
            case FORWARDED -> Verdict.FORWARDED;
            case AUDIT -> Verdict.AUDIT;
            case DROPPED -> Verdict.DROPPED;
            default -> Verdict.VERDICT_UNKNOWN;
        };
    }
}
