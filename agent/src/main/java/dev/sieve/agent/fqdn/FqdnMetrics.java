package dev.sieve.agent.fqdn;

import dev.sieve.observer.metrics.FlowMetrics;

/** The {@code sieve_fqdn_*} metrics of the learned FQDN cache. */
public final class FqdnMetrics {

    private FqdnMetrics() {}

    public static void register(FlowMetrics metrics, AgentFqdnLearner fqdn) {
        metrics.gauge("sieve_fqdn_cache_entries", "Addresses learned from DNS answers (endpoint, name, address)", "", fqdn::size);
        metrics.gauge("sieve_fqdn_learned_total", "Addresses added to the FQDN cache", "", fqdn::learnedTotal);
        metrics.gauge("sieve_fqdn_expired_total", "Addresses removed from the FQDN cache after their TTL (and their last connection)", "", fqdn::expiredTotal);
        metrics.gauge("sieve_fqdn_evicted_total", "Addresses removed by the per-name or total bound", "", fqdn::evictedTotal);
        metrics.gauge("sieve_fqdn_known_answers_total", "DNS answers released at once: every name and address was held already", "", fqdn::knownAnswers);
        metrics.gauge("sieve_fqdn_map_update_seconds_count", "DNS answers learned from", "", fqdn::updates);
        metrics.gauge("sieve_fqdn_map_update_seconds_sum", "Time from a DNS answer to the policy maps allowing its addresses", "", fqdn::updateSecondsTotal);
        metrics.gauge("sieve_fqdn_map_update_seconds", "Time from a DNS answer to the policy maps allowing its addresses, over the last 1024 answers",
                "quantile=\"0.5\"", () -> fqdn.updateSecondsQuantile(0.5));
        metrics.gauge("sieve_fqdn_map_update_seconds", "Time from a DNS answer to the policy maps allowing its addresses, over the last 1024 answers",
                "quantile=\"0.99\"", () -> fqdn.updateSecondsQuantile(0.99));
    }
}
