package dev.sieve.observer.server;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Timestamps;
import dev.sieve.observer.events.AgentEventHub;
import java.util.ArrayList;
import java.util.List;

/**
 * Which buffered events an agent/debug events request asks for, with GetFlows' rules: {@code number} N the last
 * N (with {@code first} the first N), 0 every buffered one unless following without {@code since};
 * {@code since}/{@code until} bound the times.
 */
record EventWindow(long number, boolean first, boolean follow, long sinceNanos, long untilNanos) {

    static EventWindow of(long number, boolean first, boolean follow, Timestamp since, Timestamp until) {
        long s = since == null ? Long.MIN_VALUE : nanos("since", since);
        long u = until == null ? Long.MAX_VALUE : nanos("until", until);
        if (s > u) throw new IllegalArgumentException("since is after until");
        if (first && follow) throw new IllegalArgumentException("first cannot be specified with follow");
        return new EventWindow(number < 0 ? Long.MAX_VALUE : number, first, follow, s, u);
    }

    private static long nanos(String field, Timestamp t) {
        if (!Timestamps.isValid(t)) throw new IllegalArgumentException(field + " is not a valid timestamp");
        return t.getSeconds() * 1_000_000_000L + t.getNanos();
    }

    /** The events of {@code buffered} (oldest first) before sequence {@code end} that this window sends first. */
    List<AgentEventHub.Entry> history(List<AgentEventHub.Entry> buffered, long end) {
        List<AgentEventHub.Entry> in = new ArrayList<>();
        for (AgentEventHub.Entry e : buffered) {
            if (e.seq() < end && e.timeNanos() >= sinceNanos && e.timeNanos() <= untilNanos) in.add(e);
        }
        if (number == 0) return follow && sinceNanos == Long.MIN_VALUE ? List.of() : in;
        if (first) return in.subList(0, (int) Math.min(number, in.size()));
        return in.subList((int) Math.max(0, in.size() - Math.min(number, in.size())), in.size());
    }
}
