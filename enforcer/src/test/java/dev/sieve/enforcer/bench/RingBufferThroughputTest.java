package dev.sieve.enforcer.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.datapath.BpfAssumptions;
import org.junit.jupiter.api.Test;

/** The benchmark runs (briefly) and events flow end to end; timings are for `make bench`, not asserted. */
class RingBufferThroughputTest {
    @Test
    void eventsFlowFromTestRunToJava() throws Exception {
        BpfAssumptions.assumeBpfUsable();
        RingBufferThroughput.Result r = RingBufferThroughput.run(0.5);
        assertThat(r.consumed()).isPositive();
        System.out.printf("ring buffer -> decoded events: %.2f M events/s%n", r.eventsPerSecond() / 1e6);
    }
}
