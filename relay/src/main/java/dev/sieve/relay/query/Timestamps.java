package dev.sieve.relay.query;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.Flow;
import java.time.Instant;

/** Conversions between protobuf timestamps, instants and epoch nanoseconds. */
public final class Timestamps {
    private Timestamps() {}

    public static Instant toInstant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    public static long nanos(Instant i) {
        return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000_000L), i.getNano());
    }

    public static long nanos(Timestamp t) {
        return t.getSeconds() * 1_000_000_000L + t.getNanos();
    }

    public static long nanos(Flow f) {
        return nanos(f.getTime());
    }

    public static Timestamp timestamp(long epochNanos) {
        return Timestamp.newBuilder()
                .setSeconds(Math.floorDiv(epochNanos, 1_000_000_000L))
                .setNanos((int) Math.floorMod(epochNanos, 1_000_000_000L))
                .build();
    }

    public static Instant instant(long epochNanos) {
        return Instant.ofEpochSecond(Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L));
    }
}
