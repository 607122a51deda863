package dev.sieve.policy.trace;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The verdict for one connection attempt and why: what the source's egress policy and the destination's
 * ingress policy decided (each: verdict, deciding rule, policy names), the L7 verdict when an L7 request was
 * given, and the reason in words.
 */
public record TraceResult(Verdict verdict, Side source, Side destination, DirectionResult egress,
                          DirectionResult ingress, L7Result l7, String reason) {

    /** One end of the connection: how it was named, its identity and labels, its pod if it is one. */
    public record Side(String spec, int identity, List<String> labels, String endpoint) {

        /** The side as JSON fields (peer, identity, labels, pod), as `sieve policy trace -o json` and the relay's why print it. */
        public Map<String, Object> fields() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("peer", spec);
            m.put("identity", identity);
            m.put("labels", labels);
            m.put("pod", endpoint);
            return m;
        }
    }

    /**
     * One direction's decision. {@code rule} is the deciding rule ({@code Kind ns/name path}) or null,
     * {@code policies} the names of every policy with a matching rule, {@code dropReason} Hubble's code or 0.
     */
    public record DirectionResult(Verdict verdict, boolean enforced, boolean audit, String rule, List<String> policies,
                                  int dropReason, String reason) {}

    /** The L7 decision: verdict, the rule that matched (or null), and why. */
    public record L7Result(Verdict verdict, String rule, String reason) {}
}
