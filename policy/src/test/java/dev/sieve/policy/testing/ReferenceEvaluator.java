package dev.sieve.policy.testing;

import dev.sieve.policy.cluster.ContainerPort;
import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.cluster.Service;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.LabelSet;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Entity;
import dev.sieve.policy.model.IcmpField;
import dev.sieve.policy.model.Peer;
import dev.sieve.policy.model.PeerRule;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PortProtocol;
import dev.sieve.policy.model.PortRule;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.model.Rule;
import dev.sieve.policy.net.Cidr;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * An independent reading of the policy model, for property tests: it evaluates the parsed rules directly
 * against one connection (no identities, no selector cache, no compiled entries), the way the documentation
 * states the semantics: a rule applies to an endpoint its endpointSelector matches; a peer matches by its
 * labels, its address (CIDRs select addresses outside the cluster only), its reserved name (entities), the
 * DNS name it was resolved from (toFQDNs) or the services that select it; fromRequires/toRequires narrow the
 * endpoint peers of the allow rules of the same direction; any matching deny wins, then an allow, then an L7
 * redirect, else the traffic is dropped when the direction is enforced and passes otherwise; audit mode turns
 * drops into AUDIT.
 */
public final class ReferenceEvaluator {

    /** The other side of a connection, as the reference sees it. */
    public sealed interface RefPeer {
        record PodPeer(Pod pod) implements RefPeer {}

        /** A reserved identity by name: host, remote-node, kube-apiserver, world, health, init, unmanaged. */
        record Reserved(String name) implements RefPeer {}

        /** An address outside the cluster; {@code dnsName} is set when DNS resolved it from that name. */
        record External(byte[] address, String dnsName) implements RefPeer {}
    }

    public enum Outcome { PASS, DROP, DENY, REDIRECT, AUDIT, NONE }

    private final ManifestSet set;
    private final EnforcementMode mode;
    private final Map<String, Namespace> namespaces = new HashMap<>();

    public ReferenceEvaluator(ManifestSet set, EnforcementMode mode) {
        this.set = set;
        this.mode = mode;
        for (Namespace n : set.namespaces()) namespaces.put(n.name(), n);
    }

    /** Resolves a peer written as the trace CLI writes it. */
    public RefPeer peer(String spec) {
        if (spec.startsWith("entity:")) return new RefPeer.Reserved(spec.substring(7));
        if (spec.startsWith("fqdn:")) {
            String[] nv = spec.substring(5).split("=", 2);
            return new RefPeer.External(Cidr.parseAddress(nv[1]), nv[0]);
        }
        if (spec.startsWith("ip:")) {
            byte[] a = Cidr.parseAddress(spec.substring(3));
            String text = Cidr.formatAddress(a);
            for (Pod p : set.pods()) if (p.ips().contains(text)) return new RefPeer.PodPeer(p);
            for (var n : set.nodes()) if (n.ips().contains(text)) return new RefPeer.Reserved("remote-node");
            if (set.apiServerIps().contains(text)) return new RefPeer.Reserved("kube-apiserver");
            return new RefPeer.External(a, null);
        }
        for (Pod p : set.pods()) if (p.key().equals(spec)) return new RefPeer.PodPeer(p);
        throw new IllegalArgumentException("no peer " + spec);
    }

    /** The labels Cilium gives a pod's identity: its labels, its namespace and the namespace's labels. */
    public LabelSet labels(Pod p) {
        List<Label> out = new ArrayList<>();
        p.labels().forEach((k, v) -> out.add(Label.k8s(k, v)));
        out.add(Label.k8s("io.kubernetes.pod.namespace", p.namespace()));
        out.add(Label.k8s("io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name", p.namespace()));
        Namespace ns = namespaces.get(p.namespace());
        if (ns != null) ns.labels().forEach((k, v) -> out.add(Label.k8s("io.cilium.k8s.namespace.labels." + k, v)));
        out.add(Label.k8s("io.cilium.k8s.policy.serviceaccount", p.serviceAccount()));
        out.add(Label.k8s("io.cilium.k8s.policy.cluster", "default"));
        return LabelSet.of(out);
    }

    private LabelSet labels(RefPeer p) {
        return switch (p) {
            case RefPeer.PodPeer pp -> labels(pp.pod());
            case RefPeer.Reserved r -> LabelSet.of(Label.reserved(r.name()));
            case RefPeer.External e -> LabelSet.of(Label.reserved("world"));
        };
    }

    public boolean audit(Pod p) {
        Namespace ns = namespaces.get(p.namespace());
        return "true".equalsIgnoreCase(p.annotations().get("policy.sieve.dev/audit-mode"))
                || ns != null && "true".equalsIgnoreCase(ns.annotations().get("policy.sieve.dev/audit-mode"));
    }

    /** What the policy of {@code subject} decides for traffic in direction {@code d} with {@code peer}. */
    public Outcome decide(Pod subject, Direction d, RefPeer peer, int proto, int port) {
        if (mode == EnforcementMode.NEVER) return Outcome.PASS;
        LabelSet subjectLabels = labels(subject);
        List<Rule> rules = new ArrayList<>();
        for (Policy p : set.policies()) {
            for (Rule r : p.rules()) if (r.nodeSelector() == null && r.endpointSelector().matches(subjectLabels)) rules.add(r);
        }
        boolean enforced = mode == EnforcementMode.ALWAYS;
        List<Requirement> requires = new ArrayList<>();
        for (Rule r : rules) {
            if (r.defaultDeny(d)) enforced = true;
            for (PeerRule pr : r.rules(d)) if (!pr.deny()) requires.addAll(pr.requires());
        }
        boolean deny = false, allow = false, redirect = false;
        for (Rule r : rules) {
            for (PeerRule pr : r.rules(d)) {
                if (!peerMatches(pr, peer, requires)) continue;
                for (Outcome o : l4(pr, d, subject, proto, port)) {
                    switch (o) {
                        case DENY -> deny = true;
                        case PASS -> allow = true;
                        case REDIRECT -> redirect = true;
                        default -> throw new IllegalStateException();
                    }
                }
            }
        }
        Outcome o = deny ? Outcome.DENY : allow ? Outcome.PASS : redirect ? Outcome.REDIRECT : enforced ? Outcome.DROP : Outcome.PASS;
        if ((o == Outcome.DENY || o == Outcome.DROP) && audit(subject)) return Outcome.AUDIT;
        return o == Outcome.DENY ? Outcome.DROP : o;
    }

    private boolean peerMatches(PeerRule pr, RefPeer peer, List<Requirement> requires) {
        for (Peer p : pr.peers()) {
            boolean m = switch (p) {
                case Peer.Any a -> true;
                case Peer.Endpoints e -> (pr.deny() ? e.selector() : e.selector().and(requires)).matches(labels(peer));
                case Peer.CidrBlock c -> peer instanceof RefPeer.External x && c.cidr().contains(x.address())
                        && c.except().stream().noneMatch(ex -> ex.contains(x.address()));
                case Peer.EntityPeer e -> entityMatches(e.entity(), peer);
                case Peer.Fqdn f -> peer instanceof RefPeer.External x && x.dnsName() != null && fqdnMatches(f, x.dnsName());
                case Peer.Service s -> peer instanceof RefPeer.PodPeer pp && serviceSelects(s, pp.pod());
            };
            if (m) return true;
        }
        return false;
    }

    private static boolean entityMatches(Entity e, RefPeer peer) {
        return switch (e) {
            case ALL -> true;
            case WORLD, WORLD_IPV4, WORLD_IPV6 -> peer instanceof RefPeer.External || peer instanceof RefPeer.Reserved r && r.name().equals("world");
            case CLUSTER -> peer instanceof RefPeer.PodPeer || peer instanceof RefPeer.Reserved r && !r.name().equals("world");
            default -> peer instanceof RefPeer.Reserved r && r.name().equals(e.yamlName);
        };
    }

    /** DNS matching written from the documentation: '*' is characters of one label, a leading '**.' any labels. */
    static boolean fqdnMatches(Peer.Fqdn f, String name) {
        String n = name.toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
        if (f.matchName() != null) return f.matchName().toLowerCase(Locale.ROOT).replaceAll("\\.$", "").equals(n);
        String pat = f.matchPattern().toLowerCase(Locale.ROOT).replaceAll("\\.$", "");
        if (pat.equals("*")) return true;
        String prefix = "";
        if (pat.startsWith("**.")) {
            prefix = "([a-z0-9_-]+\\.)+";
            pat = pat.substring(3);
        }
        StringBuilder re = new StringBuilder(prefix);
        String[] parts = pat.split("\\*", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) re.append("[a-z0-9_-]*");
            if (!parts[i].isEmpty()) re.append(Pattern.quote(parts[i]));
        }
        return Pattern.matches(re.toString(), n);
    }

    private boolean serviceSelects(Peer.Service s, Pod pod) {
        for (Service svc : set.services()) {
            boolean named = s.name() != null && svc.name().equals(s.name()) && svc.namespace().equals(s.namespace());
            boolean bySelector = s.name() == null && (s.namespace().isEmpty() || svc.namespace().equals(s.namespace()))
                    && s.serviceSelector().matches(LabelSet.of(svc.labels().entrySet().stream().map(e -> Label.k8s(e.getKey(), e.getValue())).toList()));
            if (!(named || bySelector) || svc.selector() == null) continue;
            if (!pod.namespace().equals(svc.namespace())) continue;
            if (svc.selector().entrySet().stream().allMatch(e -> e.getValue().equals(pod.labels().get(e.getKey())))) return true;
        }
        return false;
    }

    /** The actions of a rule's L4 part for this connection: PASS (allow), DENY or REDIRECT, one per matching port. */
    private List<Outcome> l4(PeerRule pr, Direction d, Pod subject, int proto, int port) {
        List<Outcome> out = new ArrayList<>();
        if (pr.allPorts()) {
            out.add(pr.deny() ? Outcome.DENY : Outcome.PASS);
            return out;
        }
        for (IcmpField f : pr.icmps()) {
            if (f.protocol().number == proto && f.type() == port) out.add(pr.deny() ? Outcome.DENY : Outcome.PASS);
        }
        for (PortRule pt : pr.toPorts()) {
            Outcome action = pr.deny() ? Outcome.DENY : pt.hasL7() ? Outcome.REDIRECT : Outcome.PASS;
            if (pt.ports().isEmpty()) {
                out.add(action);
                continue;
            }
            for (PortProtocol pp : pt.ports()) {
                if (portMatches(pp, d, subject, proto, port)) out.add(action);
            }
        }
        return out;
    }

    private boolean portMatches(PortProtocol pp, Direction d, Pod subject, int proto, int port) {
        if (pp.namedPort() != null) {
            // a named port is the subject's own container port at ingress, any pod's at egress
            List<Pod> owners = d == Direction.INGRESS ? List.of(subject) : set.pods();
            for (Pod p : owners) {
                for (ContainerPort cp : p.ports()) {
                    if (cp.name() != null && cp.name().equals(pp.namedPort())
                            && (pp.protocol() == Protocol.ANY || pp.protocol() == cp.protocol())
                            && cp.protocol().number == proto && cp.port() == port) return true;
                }
            }
            return false;
        }
        boolean protoOk = pp.protocol() == Protocol.ANY
                ? pp.isWildcard() || proto == 6 || proto == 17 || proto == 132
                : pp.protocol().number == proto;
        int low = pp.port() == 0 ? 0 : pp.port();
        int high = pp.port() == 0 ? 65535 : Math.max(pp.port(), pp.endPort());
        return protoOk && port >= low && port <= high;
    }

    /** Combines both ends like a connection does: any drop drops, then the proxy, then audit. */
    public static String combine(Outcome egress, Outcome ingress) {
        if (egress == Outcome.DROP || ingress == Outcome.DROP) return "DROPPED";
        if (egress == Outcome.REDIRECT || ingress == Outcome.REDIRECT) return "REDIRECTED";
        if (egress == Outcome.AUDIT || ingress == Outcome.AUDIT) return "AUDIT";
        return "FORWARDED";
    }
}
