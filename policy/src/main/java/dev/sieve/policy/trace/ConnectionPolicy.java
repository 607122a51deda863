package dev.sieve.policy.trace;

import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.Match;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.l7.L7Request;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.model.Direction;
import java.util.ArrayList;
import java.util.List;

/**
 * The policy of one connection: what the source's egress and the destination's ingress decided for its protocol
 * and port, fixed when the connection starts. When either side sent it to the L7 proxy, {@link #judge} decides
 * each request on it. The proxies and {@code sieve policy trace} judge requests with this one class, so the two
 * never disagree.
 */
public final class ConnectionPolicy {

    /** One direction's decision: the result as trace reports it, the entries' match, the endpoint (or null). */
    public record Side(TraceResult.DirectionResult result, Match match, Endpoint endpoint) {

        boolean redirected() {
            return result.verdict() == Verdict.REDIRECTED;
        }
    }

    /**
     * The verdict on one L7 request. {@code rule} names the L7 rules that matched (null when denied);
     * {@code egressRules} / {@code ingressRules} are the rules that decided on each side (for a denial, the
     * redirecting rules whose L7 rules matched nothing; empty for a side that did not redirect), for the flow's
     * {@code *_allowed_by} / {@code *_denied_by}; {@code deniedAt} the side that denied, or null.
     */
    public record L7Verdict(Verdict verdict, String rule, Direction deniedAt, List<RuleInfo> egressRules,
                            List<RuleInfo> ingressRules, String reason) {

        public boolean allowed() {
            return verdict == Verdict.FORWARDED || verdict == Verdict.AUDIT;
        }
    }

    private final Side egress;
    private final Side ingress;

    public ConnectionPolicy(Side egress, Side ingress) {
        this.egress = egress;
        this.ingress = ingress;
    }

    public Side egress() {
        return egress;
    }

    public Side ingress() {
        return ingress;
    }

    /** Whether the L7 proxy decides this connection's requests (either side redirected and neither dropped). */
    public boolean redirected() {
        return !dropped() && (egress.redirected() || ingress.redirected());
    }

    /** Whether L3/L4 policy drops the connection before any request (audit mode reports AUDIT instead). */
    public boolean dropped() {
        return egress.result().verdict() == Verdict.DROPPED || ingress.result().verdict() == Verdict.DROPPED;
    }

    /**
     * Judges one request: every side that redirected must have an L7 rule set that allows it; the first side
     * that has none denies it (AUDIT instead when that endpoint is in audit mode).
     */
    public L7Verdict judge(L7Request req) {
        String matched = null;
        List<RuleInfo> eg = List.of(), in = List.of();
        for (Side s : List.of(egress, ingress)) {
            if (!s.redirected()) continue;
            boolean isEgress = s == egress;
            List<L7Rules> sets = s.match().l7();
            List<RuleInfo> owners = s.match().l7Owners();
            Object hit = null;
            RuleInfo owner = null;
            for (int i = 0; i < sets.size() && hit == null; i++) {
                hit = req.firstMatch(sets.get(i));
                if (hit != null) owner = owners.get(i);
            }
            String where = isEgress ? "egress" : "ingress";
            if (hit == null) {
                List<RuleInfo> deciding = distinct(owners);
                boolean audit = s.endpoint() != null && s.endpoint().audit();
                Verdict v = audit ? Verdict.AUDIT : Verdict.DROPPED;
                String why = "no " + where + " L7 rule of " + s.result().rule() + " matches " + req.describe()
                        + (audit ? ", passed in audit mode" : "");
                return new L7Verdict(v, null, isEgress ? Direction.EGRESS : Direction.INGRESS,
                        isEgress ? deciding : List.of(), isEgress ? List.of() : deciding, why);
            }
            if (isEgress) eg = List.of(owner);
            else in = List.of(owner);
            matched = matched == null ? hit.toString() : matched + "; " + hit;
        }
        if (matched == null) {
            return new L7Verdict(Verdict.FORWARDED, null, null, eg, in, req.describe() + ": no side redirects it to the proxy");
        }
        return new L7Verdict(Verdict.FORWARDED, matched, null, eg, in, req.describe() + " matches " + matched);
    }

    private static List<RuleInfo> distinct(List<RuleInfo> rules) {
        List<RuleInfo> out = new ArrayList<>(rules.size());
        for (RuleInfo r : rules) if (!out.contains(r)) out.add(r);
        return out;
    }
}
