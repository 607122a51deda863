package dev.sieve.observer.enrich;

import java.time.Instant;
import java.util.function.LongSupplier;
import java.util.function.LongUnaryOperator;

/**
 * CLOCK_MONOTONIC (what {@code bpf_ktime_get_ns} and, on Linux, {@link System#nanoTime()} read) to wall time.
 * The offset between the two is measured again once a second of monotonic time has passed, so a step of the wall
 * clock after the agent started (NTP setting the time while a node boots) reaches flow times within a second
 * instead of skewing them for the agent's lifetime.
 */
final class MonotonicClock implements LongUnaryOperator {

    static final long REMEASURE_NANOS = 1_000_000_000L;

    private record Offset(long measuredAt, long offset) {}

    private final LongSupplier wallNanos;
    private final LongSupplier monotonicNanos;
    private volatile Offset current;

    MonotonicClock() {
        this(MonotonicClock::epochNanos, System::nanoTime);
    }

    MonotonicClock(LongSupplier wallNanos, LongSupplier monotonicNanos) {
        this.wallNanos = wallNanos;
        this.monotonicNanos = monotonicNanos;
        this.current = measure();
    }

    private Offset measure() {
        long mono = monotonicNanos.getAsLong();
        return new Offset(mono, wallNanos.getAsLong() - mono);
    }

    @Override
    public long applyAsLong(long monotonic) {
        Offset o = current;
        if (monotonic - o.measuredAt > REMEASURE_NANOS) {
            o = measure();
            current = o;
        }
        return monotonic + o.offset;
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
