package dev.sieve.relay.explain;

import dev.sieve.policy.cluster.Node;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.PeerSelectors;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.l7.DnsRule;
import dev.sieve.policy.l7.HttpRule;
import dev.sieve.policy.l7.KafkaRule;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.LabelSet;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.IcmpField;
import dev.sieve.policy.model.Peer;
import dev.sieve.policy.model.PeerRule;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PortProtocol;
import dev.sieve.policy.model.PortRule;
import dev.sieve.policy.model.Rule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Each policy of the relay's manifests ({@link PolicySet}) as the policy engine holds it: the endpoints its
 * endpointSelector (or nodeSelector) selects now, and each ingress/egress/deny rule with the peers it selects now
 * (the identities its selectors match, by the engine's own {@link PeerSelectors} and {@link LabelSelector}), its
 * ports, protocols and L7 rules, and a sentence saying it. A rule is named as {@code sieve policy trace} and the
 * why answer name it ({@code KIND NAMESPACE/NAME spec.ingress[0]}), so the two can be matched.
 */
public final class PolicyDescriber {
    private final PolicySet policies;

    public PolicyDescriber(PolicySet policies) {
        this.policies = policies;
    }

    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        PolicySet.Loaded loaded = policies.get();
        if (loaded == null) {
            out.put("available", false);
            out.put("message", policies.configured()
                    ? "the relay's manifests " + policies.paths() + " have never been valid; see the relay's log"
                    : "the relay was started without --manifests: it knows the policies only by the names the datapath recorded on flows");
            out.put("policies", List.of());
            return out;
        }
        out.put("available", true);
        out.put("manifests", policies.paths().stream().map(Object::toString).toList());
        out.put("loadedAt", loaded.loadedAt().toString());
        if (!loaded.errors().isEmpty()) out.put("manifestErrors", loaded.errors());
        List<Map<String, Object>> list = new ArrayList<>();
        synchronized (loaded) {
            PolicyEngine engine = loaded.engine();
            View view = new View(engine, loaded.set().nodes());
            List<Policy> sorted = new ArrayList<>(engine.policies());
            sorted.sort(Comparator.comparing(Policy::key));
            for (Policy p : sorted) list.add(policy(p, view));
        }
        out.put("policies", list);
        return out;
    }

    /** The engine's endpoints and identities right now, indexed once per answer. */
    private record View(PolicyEngine engine, List<Node> nodes, Map<Integer, List<Endpoint>> byIdentity, List<Identity> identities) {
        View(PolicyEngine engine, List<Node> nodes) {
            this(engine, nodes, new TreeMap<>(), new ArrayList<>(engine.selectorCache().identities()));
            for (Endpoint ep : engine.endpoints()) {
                if (ep.identity() != null) byIdentity.computeIfAbsent(ep.identity().id(), k -> new ArrayList<>()).add(ep);
            }
            identities.sort(Comparator.comparingInt(Identity::id));
        }
    }

    private static Map<String, Object> policy(Policy p, View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", p.key().kind().kind);
        m.put("namespace", p.key().namespace());
        m.put("name", p.key().name());
        m.put("file", p.source().file());
        m.put("document", p.source().document());
        List<Map<String, Object>> specs = new ArrayList<>();
        Map<String, Map<String, Object>> selected = new TreeMap<>();
        for (Rule r : p.rules()) {
            Map<String, Object> spec = spec(r, v);
            specs.add(spec);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> eps = (List<Map<String, Object>>) spec.get("endpoints");
            for (Map<String, Object> ep : eps) selected.putIfAbsent((String) ep.get("pod"), ep);
        }
        m.put("endpoints", List.copyOf(selected.values()));
        m.put("auditEndpoints", selected.values().stream().filter(e -> Boolean.TRUE.equals(e.get("audit"))).map(e -> e.get("pod")).toList());
        m.put("specs", specs);
        return m;
    }

    private static Map<String, Object> spec(Rule r, View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", r.path());
        if (r.description() != null && !r.description().isEmpty()) m.put("description", r.description());
        List<Map<String, Object>> eps = new ArrayList<>();
        if (r.nodeSelector() != null) {
            m.put("nodeSelector", r.nodeSelector().toString());
            List<String> nodes = new ArrayList<>();
            for (Node n : v.nodes()) {
                LabelSet labels = LabelSet.of(n.labels().entrySet().stream().map(e -> Label.k8s(e.getKey(), e.getValue())).toList());
                if (r.nodeSelector().matches(labels)) nodes.add(n.name());
            }
            m.put("nodes", nodes);
        } else {
            m.put("endpointSelector", r.endpointSelector().toString());
            for (Identity id : v.identities()) {
                if (!r.endpointSelector().matches(id.labels())) continue;
                for (Endpoint ep : v.byIdentity().getOrDefault(id.id(), List.of())) eps.add(endpoint(ep));
            }
            eps.sort(Comparator.comparing(e -> (String) e.get("pod")));
        }
        m.put("endpoints", eps);
        Map<String, Object> dd = new LinkedHashMap<>();
        dd.put("ingress", r.defaultDenyIngress());
        dd.put("egress", r.defaultDenyEgress());
        m.put("defaultDeny", dd);
        List<Map<String, Object>> rules = new ArrayList<>();
        for (Direction d : Direction.values()) { // as the policy reads: ingress, ingressDeny, egress, egressDeny
            for (PeerRule pr : r.rules(d)) rules.add(peerRule(r, pr, v));
        }
        m.put("rules", rules);
        return m;
    }

    private static Map<String, Object> endpoint(Endpoint ep) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pod", ep.key());
        m.put("identity", ep.identity().id());
        m.put("ips", ep.pod().ips());
        m.put("audit", ep.audit());
        return m;
    }

    private static Map<String, Object> peerRule(Rule r, PeerRule pr, View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", pr.path());
        m.put("rule", r.policy().kind().kind + " " + r.policy().displayName() + " " + pr.path());
        m.put("direction", pr.direction().name());
        m.put("deny", pr.deny());
        boolean l7 = pr.toPorts().stream().anyMatch(PortRule::hasL7);
        m.put("effect", pr.deny() ? "deny" : l7 ? "allow-l7" : "allow");
        List<Map<String, Object>> peers = new ArrayList<>();
        for (Peer p : pr.peers()) peers.add(peer(p, pr, v));
        m.put("peers", peers);
        if (!pr.requires().isEmpty()) m.put("requires", pr.requires().stream().map(Requirement::toString).toList());
        List<Map<String, Object>> ports = new ArrayList<>();
        for (PortRule pt : pr.toPorts()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("ports", pt.ports().isEmpty() ? List.of("*") : pt.ports().stream().map(PortProtocol::toString).toList());
            if (pt.hasL7()) {
                pm.put("l7Protocol", pt.l7().protocol().name());
                pm.put("l7", l7Rules(pt.l7()));
            }
            ports.add(pm);
        }
        m.put("toPorts", ports);
        if (!pr.icmps().isEmpty()) m.put("icmps", pr.icmps().stream().map(PolicyDescriber::icmp).toList());
        m.put("text", sentence(pr, peers, ports));
        return m;
    }

    private static String icmp(IcmpField f) {
        return (f.ipv6() ? "ICMPv6" : "ICMP") + " type " + f.type();
    }

    private static List<String> l7Rules(L7Rules l7) {
        List<String> out = new ArrayList<>();
        for (HttpRule h : l7.http()) {
            List<String> parts = new ArrayList<>();
            parts.add(h.method() == null ? "any method" : h.method().pattern());
            parts.add(h.path() == null ? "any path" : h.path().pattern());
            if (h.host() != null) parts.add("host " + h.host().pattern());
            for (HttpRule.HeaderMatch hm : h.headers()) parts.add("header " + hm);
            out.add(String.join(" ", parts));
        }
        for (KafkaRule k : l7.kafka()) {
            List<String> parts = new ArrayList<>();
            if (k.role() != null) parts.add("role " + k.role());
            if (k.apiKey() != null) parts.add("apiKey " + k.apiKey());
            if (k.apiVersion() >= 0) parts.add("apiVersion " + k.apiVersion());
            if (k.clientId() != null) parts.add("clientID " + k.clientId());
            parts.add(k.topic() != null ? "topic " + k.topic() : "any topic");
            out.add(String.join(" ", parts));
        }
        for (DnsRule d : l7.dns()) out.add(d.matchName() != null ? "name " + d.matchName() : "pattern " + d.matchPattern());
        return out;
    }

    /** One peer of a rule and what it selects now: identities by the engine's selectors, with their pods. */
    private static Map<String, Object> peer(Peer p, PeerRule pr, View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        switch (p) {
            case Peer.Endpoints e -> { m.put("kind", "endpoints"); m.put("text", endpointsText(e.selector())); m.put("selector", e.selector().toString()); }
            case Peer.CidrBlock c -> {
                m.put("kind", "cidr");
                m.put("text", c.cidr() + (c.except().isEmpty() ? "" : " except " + c.except().stream().map(Object::toString).collect(Collectors.joining(", "))));
            }
            case Peer.EntityPeer e -> { m.put("kind", "entity"); m.put("text", e.entity().yamlName); }
            case Peer.Fqdn f -> { m.put("kind", "fqdn"); m.put("text", f.matchName() != null ? f.matchName() : "pattern " + f.matchPattern()); }
            case Peer.Service s -> { m.put("kind", "service"); m.put("text", s.name() != null ? s.namespace() + "/" + s.name() : "services " + s.serviceSelector()); }
            case Peer.Any a -> { m.put("kind", "any"); m.put("text", "any peer"); }
        }
        boolean everything = false;
        List<LabelSelector> sels = new ArrayList<>();
        for (LabelSelector sel : PeerSelectors.of(p, v.engine().services())) {
            if (sel == null) everything = true;
            else sels.add(p instanceof Peer.Endpoints && !pr.deny() ? sel.and(pr.requires()) : sel);
        }
        m.put("all", everything);
        List<Map<String, Object>> selects = new ArrayList<>();
        if (!everything) {
            for (Identity id : v.identities()) {
                if (sels.stream().noneMatch(s -> s.matches(id.labels()))) continue;
                selects.add(selection(id, v));
            }
        }
        m.put("selects", selects);
        if (p instanceof Peer.Fqdn) m.put("note", "addresses the DNS proxy learns at the node; the relay knows them only from flows");
        return m;
    }

    private static Map<String, Object> selection(Identity id, View v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("identity", id.id());
        List<Endpoint> eps = v.byIdentity().getOrDefault(id.id(), List.of());
        if (!eps.isEmpty()) {
            m.put("kind", "pods");
            m.put("pods", eps.stream().map(Endpoint::key).sorted().toList());
            m.put("name", String.join(", ", eps.stream().map(Endpoint::key).sorted().toList()));
            return m;
        }
        String cidr = null, fqdn = null, reserved = null;
        int bits = -1;
        for (Label l : id.labels()) {
            switch (l.source()) {
                case Label.SOURCE_CIDR -> {
                    int b = Integer.parseInt(l.key().substring(l.key().indexOf('/') + 1));
                    if (b > bits) { bits = b; cidr = l.key(); }
                }
                case Label.SOURCE_FQDN -> fqdn = l.key();
                case Label.SOURCE_RESERVED -> reserved = l.key();
                default -> { }
            }
        }
        if (fqdn != null) { m.put("kind", "fqdn"); m.put("name", fqdn); }
        else if (cidr != null) { m.put("kind", "cidr"); m.put("name", cidr); }
        else if (reserved != null) { m.put("kind", "reserved"); m.put("name", reserved); }
        else { m.put("kind", "identity"); m.put("name", id.labels().toString()); }
        return m;
    }

    /** "pods app=frontend in namespace production" from a selector whose requirements are k8s labels. */
    private static String endpointsText(LabelSelector s) {
        if (s.isWildcard()) return "every endpoint";
        List<String> ns = new ArrayList<>(), rest = new ArrayList<>();
        for (Requirement r : s.requirements()) {
            if (r.key().equals("io.kubernetes.pod.namespace") && r.operator() == Requirement.Operator.IN) ns.addAll(r.values());
            else rest.add(r.toString().replaceFirst("^k8s:", ""));
        }
        String who = rest.isEmpty() ? "every pod" : "pods " + String.join(", ", rest);
        return ns.isEmpty() ? who + " in any namespace" : who + " in namespace " + String.join(" or ", ns);
    }

    @SuppressWarnings("unchecked")
    private static String sentence(PeerRule pr, List<Map<String, Object>> peers, List<Map<String, Object>> ports) {
        StringBuilder b = new StringBuilder(pr.deny() ? "Deny " : "Allow ");
        b.append(pr.direction() == Direction.INGRESS ? "ingress from " : "egress to ");
        if (peers.isEmpty()) b.append("any peer");
        else b.append(peers.stream().map(p -> (String) p.get("kind") + " " + p.get("text")).map(t -> t.replaceFirst("^(endpoints|any) ", ""))
                .collect(Collectors.joining(" or ")));
        if (pr.requires() != null && !pr.requires().isEmpty()) {
            b.append(" (that also have ").append(pr.requires().stream().map(Requirement::toString).collect(Collectors.joining(", "))).append(")");
        }
        if (pr.allPorts()) {
            b.append(" on any port and protocol");
        } else {
            List<String> parts = new ArrayList<>();
            for (Map<String, Object> pm : ports) {
                String ps = String.join(", ", (List<String>) pm.get("ports"));
                if (ps.equals("*")) ps = "any port";
                if (pm.containsKey("l7")) {
                    ps += " if the " + pm.get("l7Protocol") + " request matches " + String.join(" or ", ((List<String>) pm.get("l7")));
                }
                parts.add(ps);
            }
            for (IcmpField f : pr.icmps()) parts.add(icmp(f));
            b.append(" on ").append(String.join("; ", parts));
        }
        return b.append('.').toString();
    }
}
