package dev.sieve.enforcer.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.lab.Lab;
import org.junit.jupiter.api.Test;

/** The benchmark runs (briefly) and events flow end to end; timings are for `make bench`, not asserted. */
class RingBufferThroughputTest {
    @Test
    void eventsFlowFromTestRunToJava() throws Exception {
        assumeTrue(Lab.canRun() && LibBpf.available(), "needs root and libbpf; skipped");
        RingBufferThroughput.Result r = RingBufferThroughput.run(0.5);
        assertThat(r.consumed()).isPositive();
        System.out.printf("ring buffer -> decoded events: %.2f M events/s%n", r.eventsPerSecond() / 1e6);
    }
}
