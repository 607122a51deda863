package dev.sieve.relay.store;

import java.util.Map;

/** Shapes of the aggregate answers (per-minute counts, service map, policies). */
public final class Aggregates {
    private Aggregates() {}

    /** Flows in one time bucket starting at {@code start} (epoch seconds), by verdict name. */
    public record Bucket(long start, long flows, long drops, Map<String, Long> byVerdict) {}

    /** One service-map edge between workloads, counts by verdict name. */
    public record Edge(String srcNamespace, String srcWorkload, String dstNamespace, String dstWorkload, long flows, Map<String, Long> byVerdict) {}

    /** A policy seen in flows ("allow:Kind/ns/name"), counts by verdict name. */
    public record PolicyUse(String effect, String kind, String namespace, String name, long flows, Map<String, Long> byVerdict) {
        public static PolicyUse parse(String key, long flows, Map<String, Long> byVerdict) {
            int c = key.indexOf(':');
            String effect = key.substring(0, c);
            String[] p = key.substring(c + 1).split("/", 3);
            return new PolicyUse(effect, p[0], p.length > 1 ? p[1] : "", p.length > 2 ? p[2] : "", flows, byVerdict);
        }
    }

    public static String verdictName(int v) {
        var e = dev.sieve.api.flow.Verdict.forNumber(v);
        return e == null ? "VERDICT_" + v : e.name();
    }
}
