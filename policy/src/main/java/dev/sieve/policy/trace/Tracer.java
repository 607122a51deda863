package dev.sieve.policy.trace;

import dev.sieve.policy.compute.Action;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.compute.Match;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.identity.ReservedIdentity;
import dev.sieve.policy.l7.DnsRule;
import dev.sieve.policy.l7.HttpRule;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRule;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Entity;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.net.Cidr;
import java.util.List;

/**
 * Answers "what happens to this connection, and which policy decides it" from the same compiled entries the
 * datapath is programmed with, so trace and enforcement cannot disagree.
 */
public final class Tracer {

    private final PolicyEngine engine;
    private final java.util.Map<Identity, List<String>> labelText = new java.util.concurrent.ConcurrentHashMap<>();

    public Tracer(PolicyEngine engine) {
        this.engine = engine;
    }

    /** A peer resolved to an identity and, when it is one of our pods, its endpoint. */
    public record ResolvedPeer(String spec, Identity identity, Endpoint endpoint) {}

    public ResolvedPeer resolve(String spec) {
        PeerSpec p = PeerSpec.parse(spec);
        return switch (p.kind()) {
            case POD -> {
                Endpoint ep = engine.endpoint(p.namespace() + "/" + p.name());
                if (ep == null) throw new IllegalArgumentException("peer \"" + spec + "\": no pod " + p.namespace() + "/" + p.name() + " in the manifests");
                yield new ResolvedPeer(spec, ep.identity(), ep);
            }
            case IP -> {
                byte[] addr = parseAddress(spec, p.address());
                Endpoint ep = engine.endpointByIp(addr);
                yield new ResolvedPeer(spec, ep != null ? ep.identity() : engine.identity(engine.identityOf(addr)), ep);
            }
            case ENTITY -> {
                Entity e = Entity.parse(p.name());
                ReservedIdentity r = e == null ? null : ReservedIdentity.byName(e == Entity.WORLD_IPV4 || e == Entity.WORLD_IPV6 ? "world" : e.yamlName);
                if (r == null || e == Entity.CLUSTER || e == Entity.ALL) {
                    throw new IllegalArgumentException("peer \"" + spec + "\": unknown entity (expected host, remote-node, kube-apiserver, world, health, init, unmanaged, ingress)");
                }
                yield new ResolvedPeer(spec, engine.identity(r.id), null);
            }
            case FQDN -> {
                parseAddress(spec, p.address());
                Identity id = engine.learnFqdn(p.name(), p.address());
                yield new ResolvedPeer(spec, id, null);
            }
        };
    }

    private static byte[] parseAddress(String spec, String a) {
        try {
            return Cidr.parseAddress(a);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("peer \"" + spec + "\": " + e.getMessage());
        }
    }

    public TraceResult trace(TraceRequest req) {
        return trace(resolve(req.from()), resolve(req.to()), req);
    }

    public TraceResult trace(ResolvedPeer src, ResolvedPeer dst, TraceRequest req) {
        int proto = req.protocol().number;
        DirectionDecision eg = decide(src.endpoint(), Direction.EGRESS, dst.identity().id(), proto, req.port());
        DirectionDecision in = decide(dst.endpoint(), Direction.INGRESS, src.identity().id(), proto, req.port());

        boolean needsProxy = eg.result.verdict() == Verdict.REDIRECTED || in.result.verdict() == Verdict.REDIRECTED;
        TraceResult.L7Result l7 = null;
        Verdict verdict;
        StringBuilder reason = new StringBuilder();
        if (eg.result.verdict() == Verdict.DROPPED || in.result.verdict() == Verdict.DROPPED) {
            verdict = Verdict.DROPPED;
        } else if (needsProxy && req.hasL7()) {
            l7 = evaluateL7(eg, in, req);
            verdict = l7.verdict();
        } else if (needsProxy) {
            verdict = Verdict.REDIRECTED;
        } else if (eg.result.verdict() == Verdict.AUDIT || in.result.verdict() == Verdict.AUDIT) {
            verdict = Verdict.AUDIT;
        } else {
            verdict = Verdict.FORWARDED;
        }
        reason.append("egress of ").append(src.spec()).append(": ").append(eg.result.reason())
              .append("; ingress of ").append(dst.spec()).append(": ").append(in.result.reason());
        if (l7 != null) reason.append("; L7: ").append(l7.reason());
        else if (verdict == Verdict.REDIRECTED) reason.append("; the L7 proxy decides per request (give an L7 request to trace it)");
        return new TraceResult(verdict, side(src), side(dst), eg.result, in.result, l7, reason.toString());
    }

    private record DirectionDecision(TraceResult.DirectionResult result, Match match, Endpoint endpoint) {}

    private DirectionDecision decide(Endpoint ep, Direction d, int peer, int proto, int port) {
        if (ep == null) {
            return new DirectionDecision(new TraceResult.DirectionResult(Verdict.NONE, false, false, null, List.of(), 0,
                    "not a pod of this cluster, no " + d.lower() + " policy"), Match.NONE, null);
        }
        EndpointPolicy pol = engine.policyOf(ep.key());
        boolean enforced = pol.enforced(d);
        boolean audit = pol.audit();
        Match m = pol.lookup(d, peer, proto, port);
        List<String> policies = policyNames(m.matched());
        Verdict v;
        int drop = 0;
        String rule = m.rule() == null ? null : m.rule().toString();
        String why;
        // deny entries apply whether or not default deny is on (enableDefaultDeny: false keeps them)
        if (m.action() == Action.DENY) {
            v = Verdict.DROPPED;
            drop = DropReason.POLICY_DENY.code;
            why = "denied by " + m.rule() + " (identity " + peer + " on " + portText(proto, port) + ")";
        } else if (m.action() == Action.ALLOW) {
            v = Verdict.FORWARDED;
            why = "allowed by " + m.rule();
        } else if (m.action() == Action.REDIRECT) {
            v = Verdict.REDIRECTED;
            why = "allowed to the L7 proxy by " + m.rule();
        } else if (!enforced) {
            v = Verdict.FORWARDED;
            why = "not enforced (" + (engine.mode() == dev.sieve.policy.compute.EnforcementMode.NEVER ? "enforcement mode never"
                    : "no policy puts it under default deny for " + d.lower()) + "), allowed";
        } else {
            v = Verdict.DROPPED;
            drop = DropReason.POLICY_DENIED.code;
            why = "no rule allows identity " + peer + " on " + portText(proto, port) + " (default deny)";
        }
        if (v == Verdict.DROPPED && audit) {
            v = Verdict.AUDIT;
            why += ", passed in audit mode";
        }
        return new DirectionDecision(new TraceResult.DirectionResult(v, enforced, audit, rule, policies, drop, why), m, ep);
    }

    private static List<String> policyNames(List<RuleInfo> rules) {
        if (rules.isEmpty()) return List.of();
        if (rules.size() == 1) return List.of(rules.getFirst().policy().displayName());
        List<String> out = new java.util.ArrayList<>(rules.size());
        for (RuleInfo r : rules) {
            String n = r.policy().displayName();
            if (!out.contains(n)) out.add(n);
        }
        return out;
    }

    private TraceResult.L7Result evaluateL7(DirectionDecision eg, DirectionDecision in, TraceRequest req) {
        String matchedRule = null;
        for (DirectionDecision d : List.of(eg, in)) {
            if (d.result.verdict() != Verdict.REDIRECTED) continue;
            String hit = null;
            for (L7Rules set : d.match.l7()) {
                hit = matchL7(set, req);
                if (hit != null) break;
            }
            String where = d == eg ? "egress" : "ingress";
            if (hit == null) {
                Verdict v = d.endpoint.audit() ? Verdict.AUDIT : Verdict.DROPPED;
                return new TraceResult.L7Result(v, null, "no " + where + " L7 rule of " + d.result.rule() + " matches " + describe(req)
                        + (v == Verdict.AUDIT ? ", passed in audit mode" : ""));
            }
            matchedRule = matchedRule == null ? hit : matchedRule + "; " + hit;
        }
        return new TraceResult.L7Result(Verdict.FORWARDED, matchedRule, describe(req) + " matches " + matchedRule);
    }

    private static String matchL7(L7Rules set, TraceRequest req) {
        if (req.http() != null) for (HttpRule r : set.http()) if (r.matches(req.http())) return r.toString();
        if (req.kafka() != null) for (KafkaRule r : set.kafka()) if (r.matches(req.kafka())) return r.toString();
        if (req.dnsQuery() != null) for (DnsRule r : set.dns()) if (r.matches(req.dnsQuery())) return r.toString();
        return null;
    }

    private static String describe(TraceRequest req) {
        if (req.http() != null) return "HTTP " + req.http().method() + " " + req.http().path();
        if (req.kafka() != null) return "Kafka " + KafkaApiKeys.name(req.kafka().apiKey()) + " " + req.kafka().topics();
        return "DNS query " + req.dnsQuery();
    }

    private TraceResult.Side side(ResolvedPeer p) {
        List<String> labels = labelText.computeIfAbsent(p.identity(), id -> id.labels().asList().stream()
                .filter(l -> !l.source().equals(Label.SOURCE_CIDR)).map(Label::toString).toList());
        return new TraceResult.Side(p.spec(), p.identity().id(), labels, p.endpoint() == null ? null : p.endpoint().key());
    }

    static String portText(int proto, int port) {
        Protocol p = Protocol.byNumber(proto);
        return port + "/" + (p == null ? String.valueOf(proto) : p.name());
    }

    /** Names a rule the way flows do, for callers holding a rule id from the datapath. */
    public String ruleName(int id) {
        RuleInfo r = engine.rules().lookup(id);
        return r == null ? null : r.toString();
    }
}
