package dev.sieve.proxy.dns;

import java.util.concurrent.atomic.LongAdder;

/** The DNS proxy's counters, for the agent's {@code sieve_dns_proxy_*} metrics. */
public final class DnsStats {

    public final LongAdder forwarded = new LongAdder();
    public final LongAdder refused = new LongAdder();
    public final LongAdder malformed = new LongAdder();
    public final LongAdder upstreamErrors = new LongAdder();
    public final LongAdder learnErrors = new LongAdder();
    private final LongAdder learnCount = new LongAdder();
    private final LongAdder learnNanosTotal = new LongAdder();

    void learnNanos(long n) {
        learnCount.increment();
        learnNanosTotal.add(n);
    }

    public long learnCount() {
        return learnCount.sum();
    }

    public double learnSecondsTotal() {
        return learnNanosTotal.sum() / 1e9;
    }
}
