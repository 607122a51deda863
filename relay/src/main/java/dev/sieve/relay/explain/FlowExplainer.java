package dev.sieve.relay.explain;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Layer4;
import dev.sieve.policy.l7.DnsQuery;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.DropReason;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.policy.trace.Verdict;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * "Why" for one flow: the connection it belongs to, traced by the policy engine through the relay's manifests
 * ({@link PolicySet}), with both sides' decisions (verdict, deciding rule, policies), the L7 decision for L7 flows,
 * and — for a drop or an audited would-be drop — what would allow it: a policy written for the side that dropped it
 * ({@link AllowSuggestion}), checked by tracing the same connection again with it added; or, when a deny rule
 * decided, that rule (deny wins over every allow, so no added policy can).
 */
public final class FlowExplainer {
    private final PolicySet policies;

    public FlowExplainer(PolicySet policies) {
        this.policies = policies;
    }

    public Map<String, Object> explain(Flow flow) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("uuid", flow.getUuid());
        out.put("flowVerdict", flow.getVerdict().name());
        PolicySet.Loaded loaded = policies.get();
        if (loaded == null) {
            out.put("available", false);
            out.put("message", policies.configured()
                    ? "the relay's manifests " + policies.paths() + " have never been valid: " + String.join("; ", policiesErrors())
                    : "the relay was started without --manifests: it knows the policies only by the names the datapath recorded on the flow");
            return out;
        }
        out.put("available", true);
        out.put("manifests", policies.paths().stream().map(Object::toString).toList());
        out.put("loadedAt", loaded.loadedAt().toString());
        if (!loaded.errors().isEmpty()) out.put("manifestErrors", loaded.errors());
        TraceRequest req;
        try {
            req = request(flow);
        } catch (IllegalArgumentException e) {
            out.put("traceError", e.getMessage());
            return out;
        }
        out.put("request", describe(req));
        TraceResult r;
        synchronized (loaded) {
            try {
                r = new Tracer(loaded.engine()).trace(req);
            } catch (IllegalArgumentException e) {
                out.put("traceError", e.getMessage());
                return out;
            }
        }
        out.put("verdict", r.verdict().name());
        out.put("agrees", agrees(flow, r));
        out.put("source", r.source().fields());
        out.put("destination", r.destination().fields());
        out.put("egress", direction(r.egress()));
        out.put("ingress", direction(r.ingress()));
        if (r.l7() != null) {
            Map<String, Object> l7 = new LinkedHashMap<>();
            l7.put("verdict", r.l7().verdict().name());
            l7.put("rule", r.l7().rule());
            l7.put("reason", r.l7().reason());
            out.put("l7", l7);
        }
        out.put("reason", r.reason());
        if (r.verdict() == Verdict.DROPPED || r.verdict() == Verdict.AUDIT) out.put("allow", allow(loaded, req, r));
        return out;
    }

    private List<String> policiesErrors() {
        PolicySet.Loaded l = policies.get();
        return l == null ? List.of("see the relay's log") : l.errors();
    }

    /** What would allow the connection: a checked policy, or the deny rule that no allow can override. */
    private Map<String, Object> allow(PolicySet.Loaded loaded, TraceRequest req, TraceResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (TraceResult.DirectionResult d : List.of(r.egress(), r.ingress())) {
            if (d.dropReason() == DropReason.POLICY_DENY.code) {
                m.put("kind", "deny-rule");
                m.put("rule", d.rule());
                m.put("text", "Denied by " + d.rule() + ". A deny rule wins over every allow rule, so no added policy allows this: "
                        + "the deny rule itself has to stop selecting it (narrow its peers or ports, or remove it).");
                return m;
            }
        }
        AllowSuggestion.Suggestion s;
        synchronized (loaded) {
            s = AllowSuggestion.write(loaded.engine(), req, r);
        }
        if (s == null) {
            m.put("kind", "none");
            m.put("text", "No policy can be suggested for this connection (neither end is a pod of the manifests).");
            return m;
        }
        m.put("kind", "policy");
        m.put("text", s.text());
        m.put("yaml", s.yaml());
        // checked: the same connection traced again with the suggestion added to the manifests
        try {
            ManifestSet add = ManifestParser.parse("suggested.yaml", s.yaml());
            ManifestSet with = ManifestSet.empty();
            for (ManifestSet x : List.of(loaded.set(), add)) {
                with.policies().addAll(x.policies());
                with.namespaces().addAll(x.namespaces());
                with.pods().addAll(x.pods());
                with.services().addAll(x.services());
                with.nodes().addAll(x.nodes());
                with.apiServerIps().addAll(x.apiServerIps());
            }
            TraceResult again = new Tracer(policies.compile(with, List.of()).engine()).trace(req);
            m.put("verdictWith", again.verdict().name());
            m.put("verified", again.verdict() == Verdict.FORWARDED || again.verdict() == Verdict.REDIRECTED);
        } catch (ValidationException e) {
            m.put("verified", false);
            m.put("verdictWith", "INVALID: " + e.getMessage());
        } catch (RuntimeException e) {
            m.put("verified", false);
            m.put("verdictWith", "ERROR: " + e.getMessage());
        }
        return m;
    }

    private static boolean agrees(Flow f, TraceResult r) {
        String fv = f.getVerdict().name();
        String tv = r.verdict().name();
        if (fv.equals(tv)) return true;
        // the datapath reports a redirected connection's flows as FORWARDED (L3/L4) and L7 flows by their request's verdict
        return fv.equals("FORWARDED") && tv.equals("REDIRECTED");
    }

    /** The connection a flow belongs to: a reply's is traced from its destination back to its source. */
    static TraceRequest request(Flow f) {
        // a reply (also an L7 response: the proxy reports it from the server to the client with is_reply, as Hubble
        // does) belongs to the connection the client opened
        boolean reply = f.hasIsReply() && f.getIsReply().getValue();
        String src = peer(f, !reply), dst = peer(f, reply);
        Layer4 l4 = f.getL4();
        int port;
        Protocol proto;
        if (l4.hasTCP()) {
            proto = Protocol.TCP;
            port = reply ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort();
        } else if (l4.hasUDP()) {
            proto = Protocol.UDP;
            port = reply ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort();
        } else if (l4.hasSCTP()) {
            proto = Protocol.SCTP;
            port = reply ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort();
        } else if (l4.hasICMPv4()) {
            proto = Protocol.ICMP;
            port = l4.getICMPv4().getType();
        } else if (l4.hasICMPv6()) {
            proto = Protocol.ICMPV6;
            port = l4.getICMPv6().getType();
        } else {
            throw new IllegalArgumentException("the flow has no L4 protocol to trace");
        }
        HttpRequest http = null;
        KafkaRequest kafka = null;
        String dns = null;
        if (f.hasL7()) {
            var l7 = f.getL7();
            if (l7.hasHttp() && !l7.getHttp().getMethod().isEmpty()) {
                String path = "/", host = null;
                try {
                    URI u = URI.create(l7.getHttp().getUrl());
                    if (u.getRawPath() != null && !u.getRawPath().isEmpty()) path = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
                    host = u.getAuthority();
                } catch (IllegalArgumentException e) {
                    path = l7.getHttp().getUrl();
                }
                Map<String, String> headers = new LinkedHashMap<>();
                for (var h : l7.getHttp().getHeadersList()) headers.put(h.getKey(), h.getValue());
                http = new HttpRequest(l7.getHttp().getMethod(), path, host, headers);
            } else if (l7.hasDns() && !l7.getDns().getQuery().isEmpty()) {
                dns = l7.getDns().getQuery();
            } else if (l7.hasKafka() && !l7.getKafka().getApiKey().isEmpty()) {
                int key = KafkaApiKeys.parse(l7.getKafka().getApiKey());
                if (key >= 0) {
                    String t = l7.getKafka().getTopic();
                    kafka = new KafkaRequest(key, l7.getKafka().getApiVersion(), null,
                            t.isEmpty() ? List.of() : List.of(t));
                }
            }
        }
        return new TraceRequest(src, dst, port, proto, http, kafka, dns);
    }

    /** How trace names one end: NAMESPACE/POD, fqdn:NAME=IP for a named address, else ip:ADDRESS. */
    private static String peer(Flow f, boolean source) {
        var ep = source ? f.getSource() : f.getDestination();
        String ip = source ? f.getIP().getSource() : f.getIP().getDestination();
        List<String> names = source ? f.getSourceNamesList() : f.getDestinationNamesList();
        if (!ep.getPodName().isEmpty() && !ep.getNamespace().isEmpty()) return ep.getNamespace() + "/" + ep.getPodName();
        if (!names.isEmpty() && !ip.isEmpty()) {
            String n = names.getFirst();
            return "fqdn:" + (n.endsWith(".") ? n.substring(0, n.length() - 1) : n) + "=" + ip;
        }
        if (!ip.isEmpty()) return "ip:" + ip;
        for (String l : ep.getLabelsList()) if (l.startsWith("reserved:")) return "entity:" + l.substring(9);
        throw new IllegalArgumentException("the flow's " + (source ? "source" : "destination") + " has neither a pod nor an address");
    }

    private static Map<String, Object> describe(TraceRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from", r.from());
        m.put("to", r.to());
        m.put("port", r.port());
        m.put("protocol", r.protocol().name());
        if (r.hasL7()) m.put("l7", r.l7().describe());
        return m;
    }

    private static Map<String, Object> direction(TraceResult.DirectionResult d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verdict", d.verdict().name());
        m.put("enforced", d.enforced());
        m.put("audit", d.audit());
        m.put("rule", d.rule());
        m.put("policies", d.policies());
        m.put("dropReason", d.dropReason());
        m.put("reason", d.reason());
        return m;
    }
}
