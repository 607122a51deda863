package dev.sieve.observer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Kafka;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.observer.metrics.FlowMetrics;
import org.junit.jupiter.api.Test;

class KafkaMetricsTest {

    static Flow kafka(L7FlowType type, Verdict v, String apiKey, int error, long latency) {
        return Flow.newBuilder().setVerdict(v).setTrafficDirection(TrafficDirection.INGRESS)
                .setL7(Layer7.newBuilder().setType(type).setLatencyNs(latency)
                        .setKafka(Kafka.newBuilder().setApiKey(apiKey).setTopic("payments").setErrorCode(error)))
                .build();
    }

    @Test
    void kafkaFlowsCountPerApiKeyVerdictAndErrorCode() throws Exception {
        FlowMetrics m = new FlowMetrics();
        m.observe(kafka(L7FlowType.REQUEST, Verdict.FORWARDED, "produce", 0, 0));
        m.observe(kafka(L7FlowType.REQUEST, Verdict.DROPPED, "produce", 0, 0));
        m.observe(kafka(L7FlowType.RESPONSE, Verdict.FORWARDED, "produce", 29, 1_000_000));
        m.observe(kafka(L7FlowType.RESPONSE, Verdict.FORWARDED, "produce", 0, 3_000_000));
        m.observe(kafka(L7FlowType.REQUEST, Verdict.ERROR, "", 0, 0));
        StringBuilder out = new StringBuilder();
        m.write(out);
        assertThat(out.toString()).contains(
                "sieve_proxy_kafka_requests_total{api_key=\"produce\",verdict=\"dropped\"} 1\n",
                "sieve_proxy_kafka_requests_total{api_key=\"produce\",verdict=\"forwarded\"} 1\n",
                "sieve_proxy_kafka_responses_total{api_key=\"produce\",error_code=\"29\"} 1\n",
                "sieve_proxy_kafka_response_latency_seconds_sum{api_key=\"produce\"} 0.004\n",
                "sieve_proxy_kafka_response_latency_seconds_count{api_key=\"produce\"} 2\n",
                "sieve_proxy_kafka_errors_total 1\n",
                "hubble_policy_verdicts_total{action=\"dropped\",direction=\"ingress\",match=\"l7/kafka\"} 1\n");
    }
}
