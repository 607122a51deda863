package dev.sieve.relay.explain;

import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.l7.DnsQuery;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes the narrowest CiliumNetworkPolicy that would allow a connection the trace dropped under default deny:
 * one per side that dropped it (the destination's ingress from exactly the source, the source's egress to exactly
 * the destination, selected by their pods' labels, on the one port and protocol), with the request as an L7 rule
 * when the L7 proxy refused it. The caller checks it by tracing again with it added.
 */
final class AllowSuggestion {
    private AllowSuggestion() {}

    record Suggestion(String text, String yaml) {}

    static Suggestion write(PolicyEngine engine, TraceRequest req, TraceResult r) {
        Endpoint src = endpoint(engine, r.source()), dst = endpoint(engine, r.destination());
        boolean l7Denied = r.l7() != null && (r.l7().verdict() == Verdict.DROPPED || r.l7().verdict() == Verdict.AUDIT);
        boolean egress = blocked(r.egress()), ingress = blocked(r.ingress());
        if (l7Denied && !egress && !ingress) {
            if (r.ingress().verdict() == Verdict.REDIRECTED) ingress = true;
            else egress = true;
        }
        List<String> docs = new ArrayList<>();
        List<String> what = new ArrayList<>();
        if (ingress && dst != null) {
            docs.add(policy(dst, "ingress", peer(src, r.source(), req.from(), true), req, l7Denied && r.ingress().verdict() == Verdict.REDIRECTED, name(req)));
            what.add("the ingress of " + dst.key() + " from " + req.from());
        }
        if (egress && src != null) {
            docs.add(policy(src, "egress", peer(dst, r.destination(), req.to(), false), req, l7Denied && r.egress().verdict() == Verdict.REDIRECTED, name(req)));
            what.add("the egress of " + src.key() + " to " + req.to());
        }
        if (docs.isEmpty()) return null;
        String port = req.protocol() == Protocol.ICMP || req.protocol() == Protocol.ICMPV6
                ? req.protocol().name() + " type " + req.port() : req.port() + "/" + req.protocol().name();
        String text = "Allowing " + String.join(" and ", what) + " on " + port
                + (l7Denied ? " for this request (" + req.l7().describe() + ")" : "") + " would let it through:";
        return new Suggestion(text, String.join("---\n", docs));
    }

    private static boolean blocked(TraceResult.DirectionResult d) {
        return d.verdict() == Verdict.DROPPED || d.verdict() == Verdict.AUDIT;
    }

    private static Endpoint endpoint(PolicyEngine engine, TraceResult.Side s) {
        return s.endpoint() == null ? null : engine.endpoint(s.endpoint());
    }

    /** The YAML lines of one peer selector (indented for a rule entry), e.g. fromEndpoints with the pod's labels. */
    private static List<String> peer(Endpoint ep, TraceResult.Side side, String spec, boolean from) {
        String dir = from ? "from" : "to";
        List<String> l = new ArrayList<>();
        if (ep != null) {
            l.add("    - " + dir + "Endpoints:");
            l.add("        - matchLabels:");
            l.add("            " + q("k8s:io.kubernetes.pod.namespace") + ": " + q(ep.pod().namespace()));
            for (Map.Entry<String, String> e : new TreeMap<>(ep.pod().labels()).entrySet()) l.add("            " + q(e.getKey()) + ": " + q(e.getValue()));
            return l;
        }
        String entity = null;
        for (String lab : side.labels()) if (lab.startsWith("reserved:")) entity = lab.substring(9);
        if (spec.startsWith("fqdn:") && !from) {
            String name = spec.substring(5, spec.indexOf('='));
            l.add("    - toFQDNs:");
            l.add("        - matchName: " + q(name));
            return l;
        }
        String ip = spec.startsWith("ip:") ? spec.substring(3) : spec.startsWith("fqdn:") ? spec.substring(spec.indexOf('=') + 1) : null;
        if (ip != null && (entity == null || entity.equals("world"))) {
            l.add("    - " + dir + "CIDR:");
            l.add("        - " + q(ip + (ip.contains(":") ? "/128" : "/32")));
            return l;
        }
        l.add("    - " + dir + "Entities:");
        l.add("        - " + q(entity == null ? "world" : entity));
        return l;
    }

    private static String policy(Endpoint subject, String direction, List<String> peer, TraceRequest req, boolean withL7, String name) {
        StringBuilder b = new StringBuilder();
        b.append("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n");
        b.append("  name: ").append(q(name)).append('\n');
        b.append("  namespace: ").append(q(subject.pod().namespace())).append('\n');
        b.append("spec:\n  endpointSelector:\n");
        if (subject.pod().labels().isEmpty()) {
            b.append("    matchLabels: {}\n");
        } else {
            b.append("    matchLabels:\n");
            for (Map.Entry<String, String> e : new TreeMap<>(subject.pod().labels()).entrySet()) {
                b.append("      ").append(q(e.getKey())).append(": ").append(q(e.getValue())).append('\n');
            }
        }
        b.append("  ").append(direction).append(":\n");
        for (String line : peer) b.append(line).append('\n');
        if (req.protocol() == Protocol.ICMP || req.protocol() == Protocol.ICMPV6) {
            b.append("      icmps:\n        - fields:\n            - type: ").append(req.port())
                    .append("\n              family: ").append(req.protocol() == Protocol.ICMP ? "IPv4" : "IPv6").append('\n');
            return b.toString();
        }
        b.append("      toPorts:\n        - ports:\n");
        b.append("            - port: ").append(q(String.valueOf(req.port()))).append('\n');
        b.append("              protocol: ").append(req.protocol().name()).append('\n');
        if (withL7 && req.hasL7()) {
            b.append("          rules:\n");
            switch (req.l7()) {
                case HttpRequest h -> {
                    String path = h.path();
                    int qm = path.indexOf('?');
                    b.append("            http:\n              - method: ").append(q(h.method())).append('\n');
                    b.append("                path: ").append(q(regexQuote(qm >= 0 ? path.substring(0, qm) : path) + (qm >= 0 ? "(\\?.*)?" : ""))).append('\n');
                }
                case DnsQuery d -> {
                    String n = d.name().endsWith(".") ? d.name().substring(0, d.name().length() - 1) : d.name();
                    b.append("            dns:\n              - matchName: ").append(q(n)).append('\n');
                }
                case KafkaRequest k -> {
                    b.append("            kafka:\n              - apiKey: ").append(q(KafkaApiKeys.name(k.apiKey()))).append('\n');
                    if (!k.topics().isEmpty()) b.append("                topic: ").append(q(k.topics().getFirst())).append('\n');
                }
                default -> { }
            }
        }
        return b.toString();
    }

    private static String name(TraceRequest req) {
        String n = "allow-" + shortName(req.from()) + "-to-" + shortName(req.to()) + "-" + req.port();
        n = n.toLowerCase().replaceAll("[^a-z0-9-]+", "-").replaceAll("-+", "-");
        if (n.length() > 63) n = n.substring(0, 63);
        return n.replaceAll("-$", "");
    }

    private static String shortName(String spec) {
        int c = spec.indexOf(':'), s = spec.lastIndexOf('/');
        if (s >= 0 && c < 0) return spec.substring(s + 1);
        if (spec.startsWith("fqdn:")) return spec.substring(5, spec.indexOf('='));
        return c >= 0 ? spec.substring(c + 1) : spec;
    }

    /** RE2 text matching exactly {@code s}. */
    static String regexQuote(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if ("\\.^$|?*+()[]{}".indexOf(ch) >= 0) b.append('\\');
            b.append(ch);
        }
        return b.toString();
    }

    /** A double-quoted YAML scalar. */
    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (ch < 0x20) b.append(String.format("\\x%02x", (int) ch));
                    else b.append(ch);
                }
            }
        }
        return b.append('"').toString();
    }
}
