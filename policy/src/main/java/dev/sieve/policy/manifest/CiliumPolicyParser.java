package dev.sieve.policy.manifest;

import dev.sieve.policy.l7.DnsNames;
import dev.sieve.policy.l7.DnsRule;
import dev.sieve.policy.l7.HttpRule;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRule;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.labels.K8sLabels;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Entity;
import dev.sieve.policy.model.IcmpField;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, with Cilium's semantics: a namespaced policy's
 * selectors are scoped to its namespace unless they name a namespace themselves; a rule with ports but no
 * peer applies to every peer; default deny follows the directions that have rules unless enableDefaultDeny
 * says otherwise.
 */
final class CiliumPolicyParser {

    private static final Set<String> RULE_FIELDS = Set.of("endpointSelector", "nodeSelector", "ingress", "ingressDeny",
            "egress", "egressDeny", "labels", "description", "enableDefaultDeny", "log");
    private static final Set<String> INGRESS_FIELDS = Set.of("fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet",
            "fromEntities", "fromGroups", "fromNodes", "toPorts", "icmps", "authentication");
    private static final Set<String> EGRESS_FIELDS = Set.of("toEndpoints", "toRequires", "toCIDR", "toCIDRSet",
            "toEntities", "toFQDNs", "toServices", "toGroups", "toNodes", "toPorts", "icmps", "authentication");
    private static final Set<String> PORT_RULE_FIELDS = Set.of("ports", "rules", "terminatingTLS", "originatingTLS",
            "serverNames", "listener");
    private static final Set<String> PORT_FIELDS = Set.of("port", "endPort", "protocol");
    private static final Set<String> L7_FIELDS = Set.of("http", "kafka", "dns", "l7proto", "l7");
    private static final Set<String> HTTP_FIELDS = Set.of("method", "path", "host", "headers", "headerMatches");
    private static final Set<String> HEADER_MATCH_FIELDS = Set.of("name", "value", "mismatch", "secret");
    private static final Set<String> KAFKA_FIELDS = Set.of("role", "apiKey", "apiVersion", "clientID", "topic");
    private static final Set<String> DNS_FIELDS = Set.of("matchName", "matchPattern");
    private static final Set<String> CIDRSET_FIELDS = Set.of("cidr", "except", "cidrGroupRef", "cidrGroupSelector");
    private static final Set<String> SERVICE_FIELDS = Set.of("k8sService", "k8sServiceSelector");
    private static final Set<String> ICMP_FIELDS = Set.of("fields");
    private static final Set<String> ICMP_FIELD_FIELDS = Set.of("type", "family");
    private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,255}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    private CiliumPolicyParser() {}

    static Policy parse(PolicyKind kind, Metadata meta, Map<String, YamlValue> top, SourceRef src, Problems problems) {
        boolean namespaced = kind == PolicyKind.CILIUM_NETWORK_POLICY;
        if (!namespaced && !meta.namespace().isEmpty()) {
            meta.namespaceValue().error("a CiliumClusterwideNetworkPolicy is not namespaced: remove metadata.namespace");
        }
        String ns = namespaced ? meta.namespaceOrDefault() : "";
        PolicyKey key = new PolicyKey(kind, ns, meta.name());
        List<Rule> rules = new ArrayList<>();
        YamlValue spec = top.get("spec");
        YamlValue specs = top.get("specs");
        if ((spec == null || spec.isNull()) && (specs == null || specs.isNull())) {
            problems.add("spec", 0, "missing required field: a policy needs spec or specs");
            return null;
        }
        int before = problems.count();
        if (spec != null && !spec.isNull()) rules.add(parseRule(spec, key, src, kind, ns));
        if (specs != null) {
            for (YamlValue s : specs.items()) rules.add(parseRule(s, key, src, kind, ns));
        }
        return problems.count() == before ? new Policy(key, src, List.copyOf(rules)) : null;
    }

    private static Rule parseRule(YamlValue v, PolicyKey key, SourceRef src, PolicyKind kind, String ns) {
        Map<String, YamlValue> f = v.fields(RULE_FIELDS);
        boolean namespaced = !ns.isEmpty();
        YamlValue es = f.get("endpointSelector");
        YamlValue nsel = f.get("nodeSelector");
        LabelSelector endpointSelector = LabelSelector.ALL;
        LabelSelector nodeSelector = null;
        if (es != null && nsel != null) {
            v.error("endpointSelector and nodeSelector are mutually exclusive");
        } else if (nsel != null) {
            if (namespaced) nsel.error("nodeSelector is only valid in a CiliumClusterwideNetworkPolicy");
            nodeSelector = Selectors.parse(nsel);
        } else if (es != null) {
            endpointSelector = Selectors.parse(es);
        } else {
            v.error("missing required field: a rule needs endpointSelector" + (namespaced ? "" : " or nodeSelector"));
        }
        if (namespaced) endpointSelector = scopeToNamespace(endpointSelector, ns, true);

        List<PeerRule> ingress = new ArrayList<>();
        List<PeerRule> egress = new ArrayList<>();
        boolean hasIngress = false, hasEgress = false;
        for (String section : List.of("ingress", "ingressDeny", "egress", "egressDeny")) {
            YamlValue list = f.get(section);
            if (list == null) continue;
            boolean deny = section.endsWith("Deny");
            Direction dir = section.startsWith("ingress") ? Direction.INGRESS : Direction.EGRESS;
            List<YamlValue> items = list.items();
            if (!items.isEmpty()) {
                if (dir == Direction.INGRESS) hasIngress = true; else hasEgress = true;
            }
            for (YamlValue item : items) {
                PeerRule r = parsePeerRule(item, dir, deny, ns);
                if (r != null) (dir == Direction.INGRESS ? ingress : egress).add(r);
            }
        }
        boolean ddIngress = hasIngress, ddEgress = hasEgress;
        YamlValue dd = f.get("enableDefaultDeny");
        if (dd != null) {
            Map<String, YamlValue> df = dd.fields(Set.of("ingress", "egress"));
            if (df.containsKey("ingress")) ddIngress = Boolean.TRUE.equals(df.get("ingress").bool()) && hasIngress;
            if (df.containsKey("egress")) ddEgress = Boolean.TRUE.equals(df.get("egress").bool()) && hasEgress;
        }
        String description = f.containsKey("description") ? f.get("description").string() : null;
        return new Rule(key, src, v.path(), endpointSelector, nodeSelector, List.copyOf(ingress), List.copyOf(egress),
                ddIngress, ddEgress, description);
    }

    /**
     * Adds the namespace requirement Cilium adds to a namespaced policy's endpoint selector: the subject of a
     * namespaced policy is always in the policy's namespace, whatever the selector says.
     */
    static LabelSelector scopeToNamespace(LabelSelector sel, String ns, boolean subject) {
        if (!subject) return scopePeer(sel, ns, false);
        return sel.and(List.of(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.IN, List.of(ns))));
    }

    /**
     * Scopes a peer selector (fromEndpoints/toEndpoints, or fromRequires/toRequires when {@code requires}) as
     * Cilium does: a selector that names reserved labels (endpoints only) or the pod namespace is kept; in a
     * namespaced policy one that names namespace labels is kept too, any other gets the policy's namespace;
     * in a clusterwide policy any other gets "has a namespace", so that it selects pods only (never the world).
     */
    static LabelSelector scopePeer(LabelSelector sel, String ns, boolean requires) {
        if (!requires && sel.hasSource(Label.SOURCE_RESERVED)) return sel;
        if (sel.hasKey(K8sLabels.POD_NAMESPACE)) return sel;
        if (ns.isEmpty()) {
            return sel.and(List.of(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.EXISTS, List.of())));
        }
        for (Requirement r : sel.requirements()) if (r.key().startsWith(K8sLabels.NAMESPACE_LABELS_PREFIX)) return sel;
        return sel.and(List.of(new Requirement(Label.SOURCE_K8S, K8sLabels.POD_NAMESPACE, Requirement.Operator.IN, List.of(ns))));
    }

    private static PeerRule parsePeerRule(YamlValue v, Direction dir, boolean deny, String ns) {
        boolean ingress = dir == Direction.INGRESS;
        Map<String, YamlValue> f = v.fields(ingress ? INGRESS_FIELDS : EGRESS_FIELDS);
        String p = ingress ? "from" : "to";
        List<Peer> peers = new ArrayList<>();
        List<Requirement> requires = new ArrayList<>();
        boolean hasL3 = false;

        for (String unsupported : List.of(p + "Groups", p + "Nodes", "authentication")) {
            if (f.containsKey(unsupported)) f.get(unsupported).error("not supported by Sieve yet");
        }
        YamlValue eps = f.get(p + "Endpoints");
        if (eps != null) {
            hasL3 = true;
            for (YamlValue s : eps.items()) {
                LabelSelector sel = Selectors.parse(s);
                peers.add(new Peer.Endpoints(scopePeer(sel, ns, false)));
            }
        }
        YamlValue req = f.get(p + "Requires");
        if (req != null) {
            if (deny) req.error(p + "Requires is not allowed in a deny rule");
            for (YamlValue s : req.items()) requires.addAll(scopePeer(Selectors.parse(s), ns, true).requirements());
        }
        YamlValue cidrs = f.get(p + "CIDR");
        if (cidrs != null) {
            hasL3 = true;
            for (YamlValue c : cidrs.items()) {
                Cidr cidr = parseCidr(c);
                if (cidr != null) peers.add(new Peer.CidrBlock(cidr, List.of()));
            }
        }
        YamlValue cidrSets = f.get(p + "CIDRSet");
        if (cidrSets != null) {
            hasL3 = true;
            for (YamlValue cs : cidrSets.items()) {
                Peer.CidrBlock b = parseCidrSet(cs);
                if (b != null) peers.add(b);
            }
        }
        YamlValue entities = f.get(p + "Entities");
        if (entities != null) {
            hasL3 = true;
            for (YamlValue e : entities.items()) {
                String name = e.string();
                Entity ent = name == null ? null : Entity.parse(name);
                if (ent == null) {
                    e.error("unknown entity \"" + name + "\" (expected one of all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged)");
                } else {
                    peers.add(new Peer.EntityPeer(ent));
                }
            }
        }
        YamlValue fqdns = f.get("toFQDNs");
        if (fqdns != null) {
            hasL3 = true;
            if (deny) fqdns.error("toFQDNs is not allowed in egressDeny (Cilium cannot deny by DNS name)");
            for (YamlValue q : fqdns.items()) {
                DnsRule r = parseDnsMatch(q);
                if (r != null) peers.add(new Peer.Fqdn(r.matchName(), r.matchPattern()));
            }
        }
        YamlValue services = f.get("toServices");
        if (services != null) {
            hasL3 = true;
            for (YamlValue s : services.items()) {
                Peer.Service svc = parseService(s, ns);
                if (svc != null) peers.add(svc);
            }
        }

        List<PortRule> toPorts = new ArrayList<>();
        YamlValue tp = f.get("toPorts");
        if (tp != null) {
            for (YamlValue pr : tp.items()) {
                PortRule r = parsePortRule(pr, deny, dir);
                if (r != null) toPorts.add(r);
            }
        }
        List<IcmpField> icmps = new ArrayList<>();
        YamlValue ic = f.get("icmps");
        if (ic != null) {
            if (tp != null) ic.error("icmps and toPorts cannot be combined in one rule (use two rules)");
            for (YamlValue i : ic.items()) icmps.addAll(parseIcmp(i));
        }
        if (!hasL3 && (!toPorts.isEmpty() || !icmps.isEmpty())) {
            peers.add(new Peer.Any()); // an L4-only rule applies to every peer
        }
        return new PeerRule(dir, deny, v.path(), List.copyOf(peers), List.copyOf(requires), List.copyOf(toPorts), List.copyOf(icmps));
    }

    static Cidr parseCidr(YamlValue v) {
        String s = v.string();
        if (s == null) return null;
        try {
            return Cidr.parse(s);
        } catch (IllegalArgumentException e) {
            v.error("invalid CIDR \"" + s + "\": " + e.getMessage());
            return null;
        }
    }

    private static Peer.CidrBlock parseCidrSet(YamlValue v) {
        Map<String, YamlValue> f = v.fields(CIDRSET_FIELDS);
        if (f.containsKey("cidrGroupRef") || f.containsKey("cidrGroupSelector")) {
            v.error("cidrGroupRef/cidrGroupSelector (CiliumCIDRGroup) are not supported by Sieve yet");
            return null;
        }
        if (!f.containsKey("cidr")) {
            v.error("missing required field \"cidr\"");
            return null;
        }
        Cidr cidr = parseCidr(f.get("cidr"));
        List<Cidr> except = new ArrayList<>();
        if (f.containsKey("except")) {
            for (YamlValue e : f.get("except").items()) {
                Cidr ex = parseCidr(e);
                if (ex == null || cidr == null) continue;
                if (!cidr.contains(ex)) {
                    e.error("except " + ex + " is not inside cidr " + cidr);
                } else {
                    except.add(ex);
                }
            }
        }
        return cidr == null ? null : new Peer.CidrBlock(cidr, List.copyOf(except));
    }

    private static Peer.Service parseService(YamlValue v, String ns) {
        Map<String, YamlValue> f = v.fields(SERVICE_FIELDS);
        if (f.containsKey("k8sService") == f.containsKey("k8sServiceSelector")) {
            v.error("exactly one of k8sService or k8sServiceSelector is required");
            return null;
        }
        if (f.containsKey("k8sService")) {
            Map<String, YamlValue> s = f.get("k8sService").fields(Set.of("serviceName", "namespace"));
            String name = s.containsKey("serviceName") ? s.get("serviceName").string() : null;
            if (name == null || name.isEmpty()) {
                f.get("k8sService").error("missing required field \"serviceName\"");
                return null;
            }
            String sns = s.containsKey("namespace") ? s.get("namespace").string() : null;
            return new Peer.Service(sns == null || sns.isEmpty() ? (ns.isEmpty() ? "default" : ns) : sns, name, null);
        }
        Map<String, YamlValue> s = f.get("k8sServiceSelector").fields(Set.of("selector", "namespace"));
        if (!s.containsKey("selector")) {
            f.get("k8sServiceSelector").error("missing required field \"selector\"");
            return null;
        }
        LabelSelector sel = Selectors.parse(s.get("selector"));
        String sns = s.containsKey("namespace") ? s.get("namespace").string() : null;
        return new Peer.Service(sns == null || sns.isEmpty() ? ns : sns, null, sel);
    }

    private static PortRule parsePortRule(YamlValue v, boolean deny, Direction dir) {
        Map<String, YamlValue> f = v.fields(PORT_RULE_FIELDS);
        for (String unsupported : List.of("terminatingTLS", "originatingTLS", "serverNames", "listener")) {
            if (f.containsKey(unsupported)) f.get(unsupported).error("not supported by Sieve yet");
        }
        List<PortProtocol> ports = new ArrayList<>();
        if (f.containsKey("ports")) {
            for (YamlValue p : f.get("ports").items()) {
                PortProtocol pp = parsePort(p);
                if (pp != null) ports.add(pp);
            }
        }
        L7Rules l7 = null;
        YamlValue rules = f.get("rules");
        if (rules != null && !rules.isNull()) {
            if (deny) {
                rules.error("L7 rules are not allowed in a deny rule (deny rules act at L3/L4 only)");
                return null;
            }
            l7 = parseL7(rules, ports, dir);
        }
        return new PortRule(List.copyOf(ports), l7);
    }

    private static PortProtocol parsePort(YamlValue v) {
        Map<String, YamlValue> f = v.fields(PORT_FIELDS);
        Protocol proto = Protocol.ANY;
        if (f.containsKey("protocol")) {
            proto = Ports.parseProtocol(f.get("protocol"), true);
            if (proto == null) return null;
        }
        int port = 0;
        String named = null;
        YamlValue pv = f.get("port");
        if (pv != null) {
            String s = pv.string();
            if (s == null) {
                pv.error("expected a port number or name");
                return null;
            }
            if (Ports.isNumber(s)) {
                port = Ports.parseNumber(pv, 0);
                if (port < 0) return null;
            } else {
                if (!Ports.checkName(pv, s)) return null;
                named = s;
            }
        }
        int endPort = 0;
        YamlValue ev = f.get("endPort");
        if (ev != null) {
            endPort = Ports.parseNumber(ev, 0);
            if (endPort < 0) return null;
            if (named != null) {
                ev.error("endPort cannot be used with a named port");
                return null;
            }
            if (endPort < port) {
                ev.error("endPort " + endPort + " is lower than port " + port);
                return null;
            }
            if (port == 0 && endPort > 0) {
                ev.error("endPort needs a port to start the range");
                return null;
            }
        }
        return new PortProtocol(port, endPort == port ? 0 : endPort, named, proto);
    }

    private static L7Rules parseL7(YamlValue v, List<PortProtocol> ports, Direction dir) {
        Map<String, YamlValue> f = v.fields(L7_FIELDS);
        for (String unsupported : List.of("l7proto", "l7")) {
            if (f.containsKey(unsupported)) f.get(unsupported).error("generic L7 parsers are not supported by Sieve yet");
        }
        List<HttpRule> http = new ArrayList<>();
        List<KafkaRule> kafka = new ArrayList<>();
        List<DnsRule> dns = new ArrayList<>();
        if (f.containsKey("http")) for (YamlValue h : f.get("http").items()) {
            HttpRule r = parseHttp(h);
            if (r != null) http.add(r);
        }
        if (f.containsKey("kafka")) for (YamlValue k : f.get("kafka").items()) {
            KafkaRule r = parseKafka(k);
            if (r != null) kafka.add(r);
        }
        if (f.containsKey("dns")) {
            if (dir == Direction.INGRESS) f.get("dns").error("DNS rules apply to egress only");
            for (YamlValue d : f.get("dns").items()) {
                DnsRule r = parseDnsMatch(d);
                if (r != null) dns.add(r);
            }
        }
        int kinds = (f.containsKey("http") ? 1 : 0) + (f.containsKey("kafka") ? 1 : 0) + (f.containsKey("dns") ? 1 : 0);
        if (kinds > 1) {
            v.error("only one of http, kafka and dns may be given in one rules block");
            return null;
        }
        L7Rules l7 = new L7Rules(List.copyOf(http), List.copyOf(kafka), List.copyOf(dns));
        if (kinds == 1) checkL7Ports(v, ports, f.containsKey("dns") ? "DNS" : f.containsKey("http") ? "HTTP" : "Kafka");
        return l7;
    }

    /** L7 rules need exactly one concrete port on a protocol that can carry them. */
    private static void checkL7Ports(YamlValue v, List<PortProtocol> ports, String what) {
        if (ports.isEmpty()) {
            v.error(what + " rules need a port: add ports with a port number");
            return;
        }
        for (PortProtocol p : ports) {
            if (p.isWildcard()) v.error(what + " rules need a specific port, not port 0 (all ports)");
            else if (p.endPort() > 0) v.error(what + " rules cannot apply to a port range (" + p + ")");
            boolean ok = switch (what) {
                case "DNS" -> p.protocol() == Protocol.UDP || p.protocol() == Protocol.TCP || p.protocol() == Protocol.ANY;
                default -> p.protocol() == Protocol.TCP || p.protocol() == Protocol.ANY;
            };
            if (!ok) v.error(what + " rules cannot be carried over " + p.protocol() + " (port " + p + ")");
        }
    }

    private static HttpRule parseHttp(YamlValue v) {
        Map<String, YamlValue> f = v.fields(HTTP_FIELDS);
        com.google.re2j.Pattern method = regex(f.get("method"));
        com.google.re2j.Pattern path = regex(f.get("path"));
        com.google.re2j.Pattern host = regex(f.get("host"));
        List<HttpRule.HeaderMatch> headers = new ArrayList<>();
        if (f.containsKey("headers")) {
            for (YamlValue h : f.get("headers").items()) {
                String s = h.string();
                if (s == null) continue;
                int colon = s.indexOf(':');
                String name = (colon < 0 ? s : s.substring(0, colon)).trim();
                String value = colon < 0 ? null : s.substring(colon + 1).trim();
                if (name.isEmpty() || !HEADER_NAME.matcher(name).matches()) {
                    h.error("invalid header \"" + s + "\": expected \"Name\" or \"Name: value\"");
                    continue;
                }
                headers.add(new HttpRule.HeaderMatch(name, value));
            }
        }
        if (f.containsKey("headerMatches")) {
            for (YamlValue h : f.get("headerMatches").items()) {
                Map<String, YamlValue> hf = h.fields(HEADER_MATCH_FIELDS);
                if (hf.containsKey("mismatch") || hf.containsKey("secret")) {
                    h.error("headerMatches with mismatch or secret are not supported by Sieve yet");
                    continue;
                }
                String name = hf.containsKey("name") ? hf.get("name").string() : null;
                if (name == null || !HEADER_NAME.matcher(name).matches()) {
                    h.error("missing or invalid header name");
                    continue;
                }
                headers.add(new HttpRule.HeaderMatch(name, hf.containsKey("value") ? hf.get("value").string() : null));
            }
        }
        return new HttpRule(method, path, host, List.copyOf(headers));
    }

    /** A user's regular expression, compiled with RE2 semantics (linear time, as Envoy's safe_regex). */
    private static com.google.re2j.Pattern regex(YamlValue v) {
        if (v == null) return null;
        String s = v.string();
        if (s == null || s.isEmpty()) return null;
        try {
            return com.google.re2j.Pattern.compile(s);
        } catch (com.google.re2j.PatternSyntaxException e) {
            v.error("invalid regular expression \"" + s + "\": " + e.getDescription());
            return null;
        }
    }

    private static KafkaRule parseKafka(YamlValue v) {
        Map<String, YamlValue> f = v.fields(KAFKA_FIELDS);
        String role = f.containsKey("role") ? f.get("role").string() : null;
        String apiKey = f.containsKey("apiKey") ? f.get("apiKey").string() : null;
        Set<Integer> keys = new HashSet<>();
        if (role != null && apiKey != null) {
            v.error("role and apiKey are mutually exclusive");
            return null;
        }
        if (role != null) {
            switch (role.toLowerCase()) {
                case "produce" -> keys.addAll(KafkaApiKeys.PRODUCE_ROLE);
                case "consume" -> keys.addAll(KafkaApiKeys.CONSUME_ROLE);
                default -> {
                    f.get("role").error("unknown role \"" + role + "\" (expected produce or consume)");
                    return null;
                }
            }
        }
        if (apiKey != null) {
            int k = KafkaApiKeys.parse(apiKey);
            if (k < 0) {
                f.get("apiKey").error("unknown Kafka apiKey \"" + apiKey + "\"");
                return null;
            }
            keys.add(k);
        }
        int version = -1;
        if (f.containsKey("apiVersion")) {
            String s = f.get("apiVersion").string();
            if (s == null || !s.matches("\\d{1,4}")) {
                f.get("apiVersion").error("invalid apiVersion \"" + s + "\": expected a number");
                return null;
            }
            version = Integer.parseInt(s);
        }
        String clientId = f.containsKey("clientID") ? f.get("clientID").string() : null;
        String topic = f.containsKey("topic") ? f.get("topic").string() : null;
        if (topic != null && !KAFKA_TOPIC.matcher(topic).matches()) {
            f.get("topic").error("invalid topic \"" + topic + "\": at most 255 of a-z, A-Z, 0-9, '.', '_' and '-'");
            return null;
        }
        return new KafkaRule(role, apiKey, Set.copyOf(keys), version, clientId, topic);
    }

    private static DnsRule parseDnsMatch(YamlValue v) {
        Map<String, YamlValue> f = v.fields(DNS_FIELDS);
        String name = f.containsKey("matchName") ? f.get("matchName").string() : null;
        String pattern = f.containsKey("matchPattern") ? f.get("matchPattern").string() : null;
        if ((name == null) == (pattern == null)) {
            v.error("exactly one of matchName or matchPattern is required");
            return null;
        }
        if (name != null) {
            if (!DnsNames.NAME.matcher(name).matches()) {
                f.get("matchName").error("invalid DNS name \"" + name + "\"");
                return null;
            }
            return DnsRule.name(name);
        }
        if (!DnsNames.PATTERN.matcher(pattern).matches() && !pattern.startsWith("**.")) {
            f.get("matchPattern").error("invalid DNS pattern \"" + pattern + "\": letters, digits, '-', '_', '.' and '*' only");
            return null;
        }
        return DnsRule.pattern(pattern);
    }

    private static List<IcmpField> parseIcmp(YamlValue v) {
        List<IcmpField> out = new ArrayList<>();
        Map<String, YamlValue> f = v.fields(ICMP_FIELDS);
        if (!f.containsKey("fields")) return out;
        for (YamlValue fv : f.get("fields").items()) {
            Map<String, YamlValue> ff = fv.fields(ICMP_FIELD_FIELDS);
            boolean v6 = false;
            if (ff.containsKey("family")) {
                String fam = ff.get("family").string();
                if ("IPv4".equals(fam)) v6 = false;
                else if ("IPv6".equals(fam)) v6 = true;
                else {
                    ff.get("family").error("unknown family \"" + fam + "\" (expected IPv4 or IPv6)");
                    continue;
                }
            }
            if (!ff.containsKey("type")) {
                fv.error("missing required field \"type\"");
                continue;
            }
            int type = IcmpTypes.parse(ff.get("type").string(), v6);
            if (type < 0) {
                ff.get("type").error("invalid ICMP" + (v6 ? "v6" : "") + " type \"" + ff.get("type").string() + "\": a number 0-255 or a type name such as EchoRequest");
                continue;
            }
            out.add(new IcmpField(v6, type));
        }
        return out;
    }
}
