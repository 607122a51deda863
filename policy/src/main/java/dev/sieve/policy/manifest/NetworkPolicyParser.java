package dev.sieve.policy.manifest;

import dev.sieve.policy.labels.K8sLabels;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Peer;
import dev.sieve.policy.model.PeerRule;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PolicyKey;
import dev.sieve.policy.model.PolicyKind;
import dev.sieve.policy.model.PortProtocol;
import dev.sieve.policy.model.PortRule;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.model.Rule;
import dev.sieve.policy.model.SourceRef;
import dev.sieve.policy.net.Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * networking.k8s.io/v1 NetworkPolicy, translated into Sieve's rule model the way Cilium translates it:
 * podSelector is scoped to the policy's namespace, namespaceSelector selects on namespace labels, a missing
 * from/to means every peer, a missing ports list means every port, and policyTypes decides default deny.
 */
final class NetworkPolicyParser {

    private static final Set<String> SPEC_FIELDS = Set.of("podSelector", "policyTypes", "ingress", "egress");
    private static final Set<String> INGRESS_FIELDS = Set.of("from", "ports");
    private static final Set<String> EGRESS_FIELDS = Set.of("to", "ports");
    private static final Set<String> PEER_FIELDS = Set.of("podSelector", "namespaceSelector", "ipBlock");
    private static final Set<String> PORT_FIELDS = Set.of("protocol", "port", "endPort");

    private NetworkPolicyParser() {}

    static Policy parse(Metadata meta, Map<String, YamlValue> top, SourceRef src, Problems problems) {
        String ns = meta.namespaceOrDefault();
        PolicyKey key = new PolicyKey(PolicyKind.NETWORK_POLICY, ns, meta.name());
        YamlValue spec = top.get("spec");
        if (spec == null || spec.isNull()) {
            problems.add("spec", 0, "missing required field");
            return null;
        }
        if (top.containsKey("specs")) top.get("specs").error("a NetworkPolicy has no specs field (use spec)");
        int before = problems.count();
        Map<String, YamlValue> f = spec.fields(SPEC_FIELDS);
        if (!f.containsKey("podSelector")) spec.error("missing required field \"podSelector\" (use {} to select every pod of the namespace)");
        LabelSelector subject = CiliumPolicyParser.scopeToNamespace(
                Selectors.parse(f.get("podSelector"), NetworkPolicyParser::k8sKey), ns, true);

        boolean ingressType = true, egressType = f.containsKey("egress");
        if (f.containsKey("policyTypes")) {
            ingressType = false;
            egressType = false;
            for (YamlValue t : f.get("policyTypes").items()) {
                String s = t.string();
                if ("Ingress".equals(s)) ingressType = true;
                else if ("Egress".equals(s)) egressType = true;
                else t.error("unknown policy type \"" + s + "\" (expected Ingress or Egress)");
            }
        }
        List<PeerRule> ingress = new ArrayList<>();
        List<PeerRule> egress = new ArrayList<>();
        if (f.containsKey("ingress")) {
            if (!ingressType) f.get("ingress").error("ingress rules given but policyTypes does not include Ingress");
            for (YamlValue r : f.get("ingress").items()) ingress.add(parseRule(r, Direction.INGRESS, ns));
        }
        if (f.containsKey("egress")) {
            if (!egressType) f.get("egress").error("egress rules given but policyTypes does not include Egress");
            for (YamlValue r : f.get("egress").items()) egress.add(parseRule(r, Direction.EGRESS, ns));
        }
        if (problems.count() != before) return null;
        Rule rule = new Rule(key, src, "spec", subject, null, List.copyOf(ingress), List.copyOf(egress), ingressType, egressType, null);
        return new Policy(key, src, List.of(rule));
    }

    private static String k8sKey(String key) {
        return key.contains(":") ? key : Label.SOURCE_K8S + ":" + key;
    }

    private static PeerRule parseRule(YamlValue v, Direction dir, String ns) {
        boolean ingress = dir == Direction.INGRESS;
        Map<String, YamlValue> f = v.fields(ingress ? INGRESS_FIELDS : EGRESS_FIELDS);
        YamlValue peersValue = f.get(ingress ? "from" : "to");
        List<Peer> peers = new ArrayList<>();
        if (peersValue == null || peersValue.items().isEmpty()) {
            peers.add(new Peer.Any());
        } else {
            for (YamlValue p : peersValue.items()) {
                Peer peer = parsePeer(p, ns);
                if (peer != null) peers.add(peer);
            }
        }
        List<PortRule> toPorts = new ArrayList<>();
        if (f.containsKey("ports")) {
            List<PortProtocol> ports = new ArrayList<>();
            for (YamlValue p : f.get("ports").items()) {
                PortProtocol pp = parsePort(p);
                if (pp != null) ports.add(pp);
            }
            if (!ports.isEmpty()) toPorts.add(new PortRule(List.copyOf(ports), null));
        }
        return new PeerRule(dir, false, v.path(), List.copyOf(peers), List.of(), List.copyOf(toPorts), List.of());
    }

    private static Peer parsePeer(YamlValue v, String ns) {
        Map<String, YamlValue> f = v.fields(PEER_FIELDS);
        if (f.isEmpty()) {
            v.error("a peer needs podSelector, namespaceSelector or ipBlock");
            return null;
        }
        if (f.containsKey("ipBlock")) {
            if (f.size() > 1) {
                v.error("ipBlock cannot be combined with podSelector or namespaceSelector in one peer");
                return null;
            }
            Map<String, YamlValue> b = f.get("ipBlock").fields(Set.of("cidr", "except"));
            if (!b.containsKey("cidr")) {
                f.get("ipBlock").error("missing required field \"cidr\"");
                return null;
            }
            Cidr cidr = CiliumPolicyParser.parseCidr(b.get("cidr"));
            List<Cidr> except = new ArrayList<>();
            if (b.containsKey("except")) {
                for (YamlValue e : b.get("except").items()) {
                    Cidr ex = CiliumPolicyParser.parseCidr(e);
                    if (ex == null || cidr == null) continue;
                    if (!cidr.contains(ex) || ex.equals(cidr)) e.error("except " + ex + " must be a strict subset of cidr " + cidr);
                    else except.add(ex);
                }
            }
            return cidr == null ? null : new Peer.CidrBlock(cidr, List.copyOf(except));
        }
        List<Requirement> reqs = new ArrayList<>();
        if (f.containsKey("podSelector")) {
            reqs.addAll(Selectors.parse(f.get("podSelector"), NetworkPolicyParser::k8sKey).requirements());
        }
        if (f.containsKey("namespaceSelector")) {
            reqs.addAll(Selectors.parse(f.get("namespaceSelector"),
                    k -> Label.SOURCE_K8S + ":" + K8sLabels.NAMESPACE_LABELS_PREFIX + k).requirements());
            // any namespace, but only pods: reserved identities have no namespace label
            reqs.add(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.EXISTS, List.of()));
        } else {
            reqs.add(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.IN, List.of(ns)));
        }
        return new Peer.Endpoints(new LabelSelector(reqs));
    }

    private static PortProtocol parsePort(YamlValue v) {
        Map<String, YamlValue> f = v.fields(PORT_FIELDS);
        Protocol proto = f.containsKey("protocol") ? Ports.parseProtocol(f.get("protocol"), false) : Protocol.TCP;
        if (proto == null) return null;
        int port = 0;
        String named = null;
        if (f.containsKey("port")) {
            YamlValue pv = f.get("port");
            String s = pv.string();
            if (s == null) return null;
            if (pv.isIntScalar() || Ports.isNumber(s)) {
                port = Ports.parseNumber(pv, 1);
                if (port < 0) return null;
            } else {
                if (!Ports.checkName(pv, s)) return null;
                named = s;
            }
        }
        int endPort = 0;
        if (f.containsKey("endPort")) {
            YamlValue ev = f.get("endPort");
            endPort = Ports.parseNumber(ev, 1);
            if (endPort < 0) return null;
            if (named != null || port == 0) {
                ev.error("endPort needs a numeric port");
                return null;
            }
            if (endPort < port) {
                ev.error("endPort " + endPort + " is lower than port " + port);
                return null;
            }
        }
        return new PortProtocol(port, endPort == port ? 0 : endPort, named, proto);
    }
}
