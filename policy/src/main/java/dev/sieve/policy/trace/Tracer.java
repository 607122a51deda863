package dev.sieve.policy.trace;

import dev.sieve.policy.compute.Action;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.compute.Match;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.identity.ReservedIdentity;
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
        ConnectionPolicy c = connection(src, dst, req.protocol().number, req.port());
        ConnectionPolicy.Side eg = c.egress(), in = c.ingress();
        TraceResult.L7Result l7 = null;
        Verdict verdict;
        StringBuilder reason = new StringBuilder();
        if (c.dropped()) {
            verdict = Verdict.DROPPED;
        } else if (c.redirected() && req.hasL7()) {
            ConnectionPolicy.L7Verdict v = c.judge(req.l7());
            l7 = new TraceResult.L7Result(v.verdict(), v.rule(), v.reason());
            verdict = v.verdict();
        } else if (c.redirected()) {
            verdict = Verdict.REDIRECTED;
        } else if (eg.result().verdict() == Verdict.AUDIT || in.result().verdict() == Verdict.AUDIT) {
            verdict = Verdict.AUDIT;
        } else {
            verdict = Verdict.FORWARDED;
        }
        reason.append("egress of ").append(src.spec()).append(": ").append(eg.result().reason())
              .append("; ingress of ").append(dst.spec()).append(": ").append(in.result().reason());
        if (l7 != null) reason.append("; L7: ").append(l7.reason());
        else if (verdict == Verdict.REDIRECTED) reason.append("; the L7 proxy decides per request (give an L7 request to trace it)");
        return new TraceResult(verdict, side(src), side(dst), eg.result(), in.result(), l7, reason.toString());
    }

    /**
     * The policy of a connection from {@code src} to {@code dst} on protocol {@code proto} (IANA number) and
     * destination port {@code port}: what the datapath decides for it and, when it goes to the L7 proxy, the
     * rules that judge its requests. Not thread-safe against engine updates: callers hold the engine's lock.
     */
    public ConnectionPolicy connection(ResolvedPeer src, ResolvedPeer dst, int proto, int port) {
        return new ConnectionPolicy(decide(src.endpoint(), Direction.EGRESS, dst.identity().id(), proto, port),
                decide(dst.endpoint(), Direction.INGRESS, src.identity().id(), proto, port));
    }

    private ConnectionPolicy.Side decide(Endpoint ep, Direction d, int peer, int proto, int port) {
        if (ep == null) {
            return new ConnectionPolicy.Side(new TraceResult.DirectionResult(Verdict.NONE, false, false, null, List.of(), 0,
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
        return new ConnectionPolicy.Side(new TraceResult.DirectionResult(v, enforced, audit, rule, policies, drop, why), m, ep);
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
