package dev.sieve.observer.enrich;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Review finding F23: flow times must follow a step of the wall clock after the agent started. */
class MonotonicClockTest {

    static final long SEC = 1_000_000_000L;

    @Test
    void aWallClockStepReachesFlowTimesWithinASecond() {
        AtomicLong wall = new AtomicLong(1_000 * SEC), mono = new AtomicLong(5 * SEC);
        MonotonicClock clock = new MonotonicClock(wall::get, mono::get);
        assertThat(clock.applyAsLong(5 * SEC + 10)).isEqualTo(1_000 * SEC + 10);

        wall.addAndGet(3_600 * SEC); // NTP sets the time an hour ahead
        mono.addAndGet(SEC / 2);
        assertThat(clock.applyAsLong(mono.get())).as("within the second: the old offset").isEqualTo(1_000 * SEC + SEC / 2);

        mono.addAndGet(SEC);
        wall.addAndGet(SEC + SEC / 2);
        assertThat(clock.applyAsLong(mono.get())).as("after it: the new one").isEqualTo(wall.get());
        assertThat(clock.applyAsLong(mono.get() - SEC)).as("an older event keeps its spacing").isEqualTo(wall.get() - SEC);
    }

    @Test
    void theSystemClocksAgreeWithinFiftyMilliseconds() {
        MonotonicClock clock = new MonotonicClock();
        long now = java.time.Instant.now().toEpochMilli() * 1_000_000L;
        assertThat(Math.abs(clock.applyAsLong(System.nanoTime()) - now)).isLessThan(50_000_000L);
    }
}
