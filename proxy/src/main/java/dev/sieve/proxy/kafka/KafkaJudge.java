package dev.sieve.proxy.kafka;

import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.ConnectionPolicy.L7Verdict;
import dev.sieve.policy.trace.Verdict;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Judges one Kafka request with the connection's policy, as Cilium's Kafka matcher did: a request that names
 * several topics is allowed when every topic is allowed by some rule (the rules may differ per topic); when it is
 * not, the proxy judges each topic alone and answers per topic where the API allows ({@link TopicSplit}). Each topic
 * is judged as a one-topic {@link KafkaRequest}, the request that {@code sieve policy trace --kafka-topic} judges.
 */
final class KafkaJudge {

    /** The verdict on a whole request: FORWARDED, AUDIT or DROPPED, the deciding rules, why. */
    record Judgement(Verdict verdict, List<RuleInfo> egressRules, List<RuleInfo> ingressRules, String reason) {

        boolean allowed() {
            return verdict == Verdict.FORWARDED || verdict == Verdict.AUDIT;
        }
    }

    private KafkaJudge() {}

    static Judgement judge(ConnectionPolicy policy, int apiKey, int apiVersion, String clientId, Collection<String> topics) {
        if (topics.isEmpty()) return of(policy.judge(new KafkaRequest(apiKey, apiVersion, clientId, List.of())));
        List<RuleInfo> eg = new ArrayList<>(), in = new ArrayList<>();
        boolean audit = false;
        List<String> reasons = new ArrayList<>();
        for (String topic : topics) {
            L7Verdict v = policy.judge(new KafkaRequest(apiKey, apiVersion, clientId, List.of(topic)));
            if (!v.allowed()) return of(v);
            audit |= v.verdict() == Verdict.AUDIT;
            addAll(eg, v.egressRules());
            addAll(in, v.ingressRules());
            reasons.add(v.reason());
        }
        return new Judgement(audit ? Verdict.AUDIT : Verdict.FORWARDED, List.copyOf(eg), List.copyOf(in),
                String.join("; ", reasons));
    }

    /** Whether a Metadata answer may show {@code topic} to this client (Metadata for all topics is filtered so). */
    static boolean mayDescribe(ConnectionPolicy policy, int apiVersion, String clientId, String topic) {
        return policy.judge(new KafkaRequest(3, apiVersion, clientId, List.of(topic))).allowed();
    }

    private static Judgement of(L7Verdict v) {
        return new Judgement(v.verdict(), v.egressRules(), v.ingressRules(), v.reason());
    }

    private static void addAll(List<RuleInfo> into, List<RuleInfo> rules) {
        for (RuleInfo r : rules) if (!into.contains(r)) into.add(r);
    }
}
