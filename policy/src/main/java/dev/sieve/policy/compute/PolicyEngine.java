package dev.sieve.policy.compute;

import dev.sieve.policy.cluster.ContainerPort;
import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.cluster.Node;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.cluster.Service;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.identity.IdentityAllocator;
import dev.sieve.policy.identity.ReservedIdentity;
import dev.sieve.policy.l7.DnsRule;
import dev.sieve.policy.labels.K8sLabels;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSelector;
import dev.sieve.policy.labels.LabelSet;
import dev.sieve.policy.labels.Requirement;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.IcmpField;
import dev.sieve.policy.model.Peer;
import dev.sieve.policy.model.PeerRule;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PolicyKey;
import dev.sieve.policy.model.PortProtocol;
import dev.sieve.policy.model.PortRule;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.model.Rule;
import dev.sieve.policy.net.Cidr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The policy engine: holds policies and the cluster's namespaces, pods, services and nodes; gives every
 * distinct label set an identity; compiles, per subject identity, the entries the datapath enforces; and
 * keeps all of it current incrementally as single objects change.
 *
 * <p>Not thread-safe by itself: callers serialize changes (the agent has one policy thread), readers take
 * the results after a change returns.
 */
public final class PolicyEngine {

    private final IdentityAllocator allocator;
    private EnforcementMode mode;
    private final String localNode;

    private final Map<PolicyKey, Policy> policies = new TreeMap<>();
    private final Map<String, Namespace> namespaces = new HashMap<>();
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final Map<String, Service> services = new LinkedHashMap<>();
    private final Map<String, Node> nodes = new HashMap<>();
    private final List<Cidr> apiServer = new ArrayList<>();

    private final SelectorCache cache = new SelectorCache();
    private final IpCache ipcache = new IpCache();
    private final RuleRegistry registry = new RuleRegistry();
    private final Map<String, Identity> podIdentity = new HashMap<>();
    private final Map<String, String> podByIp = new HashMap<>();
    private final Map<Integer, Set<String>> podsByIdentity = new HashMap<>();
    private final Map<Integer, IdentityPolicy> subjects = new HashMap<>();
    private final Map<Cidr, Identity> cidrIdentities = new HashMap<>();
    /** Names learned through trace, by address. */
    private final Map<Cidr, Set<String>> fqdnLearned = new HashMap<>();
    /** What the DNS proxy learned, by address: subject identity that asked -> names. */
    private final Map<Cidr, Map<Integer, Set<String>>> fqdnLearnedBy = new HashMap<>();
    private final Map<Cidr, Identity> fqdnIdentities = new HashMap<>();
    private final Set<Integer> dirty = new HashSet<>();
    private long generation;

    public PolicyEngine(IdentityAllocator allocator, EnforcementMode mode, String localNode) {
        this.allocator = allocator;
        this.mode = mode;
        this.localNode = localNode;
        for (Identity id : allocator.all()) cache.addIdentity(id);
    }

    // ---- inputs ----------------------------------------------------------------------------------

    /** Loads a whole manifest set at once (the first computation, or a full replace). */
    public void load(ManifestSet set) {
        for (Namespace ns : set.namespaces()) namespaces.put(ns.name(), ns);
        for (Service s : set.services()) services.put(s.key(), s);
        for (Node n : set.nodes()) upsertNodeIps(n);
        for (String ip : set.apiServerIps()) {
            Cidr c = Cidr.host(Cidr.parseAddress(ip));
            apiServer.add(c);
            ipcache.upsert(c, ReservedIdentity.KUBE_APISERVER.id);
        }
        for (Pod p : set.pods()) applyPod(p);
        for (Policy p : set.policies()) {
            policies.put(p.key(), p);
            addCidrs(p);
        }
        refreshFqdnIdentities();
        dirty.addAll(subjects.keySet());
        flush();
    }

    /**
     * Brings the engine to the state of {@code set} by applying only the differences (objects added,
     * changed or gone), so that unchanged endpoints keep their identities and compiled policies.
     */
    public void sync(ManifestSet set) {
        Map<String, Namespace> nextNs = new HashMap<>();
        for (Namespace ns : set.namespaces()) nextNs.put(ns.name(), ns);
        for (Namespace ns : nextNs.values()) if (!sameNamespace(ns, namespaces.get(ns.name()))) upsertNamespace(ns);
        for (String name : new ArrayList<>(namespaces.keySet())) if (!nextNs.containsKey(name)) deleteNamespace(name);

        Map<String, Service> nextSvc = new HashMap<>();
        for (Service s : set.services()) nextSvc.put(s.key(), s);
        for (Service s : nextSvc.values()) if (!sameService(s, services.get(s.key()))) upsertService(s);
        for (String k : new ArrayList<>(services.keySet())) if (!nextSvc.containsKey(k)) deleteService(k);

        for (Node n : set.nodes()) if (!sameNode(n, nodes.get(n.name()))) upsertNode(n);
        List<Cidr> nextApi = set.apiServerIps().stream().map(ip -> Cidr.host(Cidr.parseAddress(ip))).toList();
        if (!nextApi.equals(apiServer)) {
            for (Cidr c : apiServer) ipcache.remove(c);
            apiServer.clear();
            apiServer.addAll(nextApi);
            for (Cidr c : apiServer) ipcache.upsert(c, ReservedIdentity.KUBE_APISERVER.id);
            generation++;
        }

        Map<String, Pod> nextPods = new LinkedHashMap<>();
        for (Pod p : set.pods()) nextPods.put(p.key(), p);
        for (Pod p : nextPods.values()) if (!samePod(p, pods.get(p.key()))) upsertPod(p);
        for (String k : new ArrayList<>(pods.keySet())) if (!nextPods.containsKey(k)) deletePod(k);

        replacePolicies(set.policies());
    }

    // where an object only moved within its file (another SourceRef) nothing needs recomputing
    private static boolean sameNamespace(Namespace a, Namespace b) {
        return b != null && a.labels().equals(b.labels()) && a.annotations().equals(b.annotations());
    }

    private static boolean sameService(Service a, Service b) {
        return b != null && a.labels().equals(b.labels()) && java.util.Objects.equals(a.selector(), b.selector())
                && a.clusterIPs().equals(b.clusterIPs()) && a.ports().equals(b.ports());
    }

    private static boolean sameNode(Node a, Node b) {
        return b != null && a.labels().equals(b.labels()) && a.ips().equals(b.ips());
    }

    private static boolean samePod(Pod a, Pod b) {
        return b != null && a.labels().equals(b.labels()) && a.annotations().equals(b.annotations()) && a.ips().equals(b.ips())
                && a.nodeName().equals(b.nodeName()) && a.serviceAccount().equals(b.serviceAccount()) && a.ports().equals(b.ports());
    }

    public void deleteNamespace(String name) {
        if (namespaces.remove(name) == null) return;
        for (Pod p : List.copyOf(pods.values())) if (p.namespace().equals(name)) applyPod(p);
        generation++;
        flush();
    }

    public void upsertPolicy(Policy p) {
        Policy old = policies.put(p.key(), p);
        addCidrs(p); // rule ids stay: a rule keeps its number while its policy and place do
        if (old != null) releaseCidrs(old);
        refreshFqdnIdentities();
        markSelectedBy(old);
        markSelectedBy(p);
        flush();
    }

    public void deletePolicy(PolicyKey key) {
        Policy old = policies.remove(key);
        if (old == null) return;
        registry.forget(key);
        releaseCidrs(old);
        refreshFqdnIdentities();
        markSelectedBy(old);
        flush();
    }

    /** Replaces the policy set: an upsert for every policy present, a delete for every one gone. */
    public void replacePolicies(Collection<Policy> next) {
        Set<PolicyKey> keep = new HashSet<>();
        for (Policy p : next) {
            keep.add(p.key());
            Policy old = policies.get(p.key());
            if (old == null || !old.rules().equals(p.rules())) upsertPolicy(p);
        }
        for (PolicyKey k : new ArrayList<>(policies.keySet())) if (!keep.contains(k)) deletePolicy(k);
    }

    public void upsertNamespace(Namespace ns) {
        Namespace old = namespaces.put(ns.name(), ns);
        if (old != null && old.labels().equals(ns.labels()) && old.annotations().equals(ns.annotations())) return;
        for (Pod p : List.copyOf(pods.values())) if (p.namespace().equals(ns.name())) applyPod(p);
        generation++;
        flush();
    }

    public void upsertPod(Pod p) {
        applyPod(p);
        flush();
    }

    public void deletePod(String key) {
        Pod old = pods.remove(key);
        if (old == null) return;
        for (String ip : old.ips()) {
            ipcache.remove(Cidr.host(Cidr.parseAddress(ip)));
            podByIp.remove(ip, key);
        }
        Identity id = podIdentity.remove(key);
        if (id != null) dropEndpointRef(id, key);
        if (!old.ports().isEmpty() && usesNamedPorts()) dirty.addAll(subjects.keySet());
        generation++;
        flush();
    }

    public void upsertService(Service s) {
        services.put(s.key(), s);
        markServiceUsers();
        flush();
    }

    public void deleteService(String key) {
        if (services.remove(key) != null) {
            markServiceUsers();
            flush();
        }
    }

    public void upsertNode(Node n) {
        upsertNodeIps(n);
        generation++;
    }

    /**
     * Records that DNS answered {@code name} with {@code address}: the address gets an identity carrying the
     * {@code fqdn:} labels of every toFQDNs selector that matches the name, so toFQDNs rules select it.
     */
    public Identity learnFqdn(String name, String address) {
        Cidr host = Cidr.host(Cidr.parseAddress(address));
        fqdnLearned.computeIfAbsent(host, k -> new HashSet<>()).add(dev.sieve.policy.l7.DnsNames.normalize(name));
        refreshFqdnIdentities();
        flush();
        return fqdnIdentities.get(host);
    }

    /**
     * Records that DNS answered {@code name} with {@code address} to an endpoint of identity {@code subject} (the DNS
     * proxy). Unlike {@link #learnFqdn(String, String)} it opens the address only for that identity's toFQDNs
     * selectors: the address's identity gets one {@code fqdn:SELECTOR@SUBJECT} label per toFQDNs selector matching
     * the name, and a toFQDNs peer of subject S selects {@code fqdn:SELECTOR} (learned by trace) or
     * {@code fqdn:SELECTOR@S}. Returns the address's identity.
     */
    public Identity learnFqdn(int subject, String name, String address) {
        Cidr host = Cidr.host(Cidr.parseAddress(address));
        boolean added = fqdnLearnedBy.computeIfAbsent(host, k -> new HashMap<>())
                .computeIfAbsent(subject, k -> new HashSet<>()).add(dev.sieve.policy.l7.DnsNames.normalize(name));
        if (added) {
            refreshFqdnIdentities(host);
            flush();
        }
        return fqdnIdentities.get(host);
    }

    /**
     * The toFQDNs selectors (matchName or matchPattern text) of egress rules that select {@code subject} and match
     * {@code name}: what makes an answer for that name worth learning for that endpoint.
     */
    /** Compiled toFQDNs matchers by their text (a pattern is compiled once, not per DNS answer; a pure function of the text). */
    private final Map<String, DnsRule> dnsRules = new java.util.concurrent.ConcurrentHashMap<>();

    private DnsRule dnsRule(Peer.Fqdn f) {
        String key = (f.matchName() != null ? "n:" : "p:") + f.text();
        DnsRule r = dnsRules.get(key);
        if (r != null) return r;
        if (dnsRules.size() > 4096) dnsRules.clear();
        r = f.matchName() != null ? DnsRule.name(f.matchName()) : DnsRule.pattern(f.matchPattern());
        dnsRules.put(key, r);
        return r;
    }

    public List<String> fqdnSelectors(Identity subject, String name) {
        List<String> out = new ArrayList<>();
        for (Policy p : policies.values()) {
            for (Rule r : p.rules()) {
                if (!selects(r, subject)) continue;
                for (PeerRule pr : r.egress()) {
                    for (Peer peer : pr.peers()) {
                        if (!(peer instanceof Peer.Fqdn f) || out.contains(f.text())) continue;
                        if (dnsRule(f).matches(name)) out.add(f.text());
                    }
                }
            }
        }
        return out;
    }

    /** Forgets what {@link #learnFqdn(int, String, String)} recorded; the address's identity goes when nobody learned it. */
    public void forgetFqdn(int subject, String name, String address) {
        Cidr host = Cidr.host(Cidr.parseAddress(address));
        Map<Integer, Set<String>> bySubject = fqdnLearnedBy.get(host);
        if (bySubject == null) return;
        Set<String> names = bySubject.get(subject);
        if (names == null || !names.remove(dev.sieve.policy.l7.DnsNames.normalize(name))) return;
        if (names.isEmpty()) bySubject.remove(subject);
        if (bySubject.isEmpty()) fqdnLearnedBy.remove(host);
        refreshFqdnIdentities(host);
        flush();
    }

    public void setMode(EnforcementMode mode) {
        this.mode = mode;
        generation++;
    }

    // ---- outputs ---------------------------------------------------------------------------------

    public EnforcementMode mode() {
        return mode;
    }

    /** Increases with every change that can alter any endpoint's policy or identity. */
    public long generation() {
        return generation;
    }

    public EndpointPolicy policyOf(String podKey) {
        Endpoint ep = endpoint(podKey);
        return ep == null ? null : new EndpointPolicy(ep, subjects.get(ep.identity().id()), mode);
    }

    public Endpoint endpoint(String podKey) {
        Pod p = pods.get(podKey);
        if (p == null) return null;
        Namespace ns = namespaces.get(p.namespace());
        return new Endpoint(p, podIdentity.get(podKey), p.auditMode() || ns != null && ns.auditMode());
    }

    public List<Endpoint> endpoints() {
        List<Endpoint> out = new ArrayList<>();
        for (String k : pods.keySet()) out.add(endpoint(k));
        return out;
    }

    /** The endpoint that has this address, or null. */
    public Endpoint endpointByIp(byte[] address) {
        String key = podByIp.get(Cidr.formatAddress(address));
        return key == null ? null : endpoint(key);
    }

    /** The identity of an address: the pod, node, apiserver, CIDR or FQDN identity that covers it, else world. */
    public int identityOf(byte[] address) {
        return ipcache.lookup(address);
    }

    public Identity identity(int id) {
        Identity i = cache.identity(id);
        return i != null ? i : allocator.lookup(id);
    }

    public IdentityPolicy identityPolicy(int id) {
        return subjects.get(id);
    }

    public IpCache ipcache() {
        return ipcache;
    }

    public RuleRegistry rules() {
        return registry;
    }

    public Collection<Policy> policies() {
        return policies.values();
    }

    public Pod pod(String key) {
        return pods.get(key);
    }

    public Namespace namespace(String name) {
        return namespaces.get(name);
    }

    public Collection<Service> services() {
        return services.values();
    }

    public IdentityAllocator allocator() {
        return allocator;
    }

    public SelectorCache selectorCache() {
        return cache;
    }

    // ---- identities ------------------------------------------------------------------------------

    /** The identity labels of a pod, as Cilium derives them from the pod and its namespace. */
    public LabelSet identityLabels(Pod p) {
        List<Label> labels = new ArrayList<>();
        for (Map.Entry<String, String> e : p.labels().entrySet()) {
            if (K8sLabels.identityRelevant(e.getKey())) labels.add(Label.k8s(e.getKey(), e.getValue()));
        }
        labels.add(Label.k8s(K8sLabels.POD_NAMESPACE, p.namespace()));
        labels.add(Label.k8s(K8sLabels.NAMESPACE_LABELS_PREFIX + K8sLabels.NAMESPACE_NAME_LABEL, p.namespace()));
        Namespace ns = namespaces.get(p.namespace());
        if (ns != null) {
            for (Map.Entry<String, String> e : ns.labels().entrySet()) {
                labels.add(Label.k8s(K8sLabels.NAMESPACE_LABELS_PREFIX + e.getKey(), e.getValue()));
            }
        }
        labels.add(Label.k8s(K8sLabels.SERVICE_ACCOUNT, p.serviceAccount()));
        labels.add(Label.k8s(K8sLabels.POLICY_CLUSTER, K8sLabels.DEFAULT_CLUSTER));
        return LabelSet.of(labels);
    }

    private void applyPod(Pod p) {
        Pod old = pods.put(p.key(), p);
        if (old != null) {
            for (String ip : old.ips()) {
                ipcache.remove(Cidr.host(Cidr.parseAddress(ip)));
                podByIp.remove(ip, p.key());
            }
        }
        for (String ip : p.ips()) podByIp.put(ip, p.key());
        LabelSet labels = identityLabels(p);
        Identity oldId = podIdentity.get(p.key());
        if (oldId == null || !oldId.labels().equals(labels)) {
            Identity id = allocator.allocate(labels);
            cache.addIdentity(id);
            podIdentity.put(p.key(), id);
            Set<String> members = podsByIdentity.computeIfAbsent(id.id(), k -> new HashSet<>());
            members.add(p.key());
            if (!subjects.containsKey(id.id())) dirty.add(id.id());
            if (oldId != null) dropEndpointRef(oldId, p.key());
        }
        Identity id = podIdentity.get(p.key());
        for (String ip : p.ips()) ipcache.upsert(Cidr.host(Cidr.parseAddress(ip)), id.id());
        if ((old == null || !old.ports().equals(p.ports())) && !p.ports().isEmpty() && usesNamedPorts()) {
            dirty.addAll(subjects.keySet());
            dirty.add(id.id());
        }
        generation++;
    }

    private void dropEndpointRef(Identity id, String podKey) {
        Set<String> members = podsByIdentity.get(id.id());
        if (members != null) {
            members.remove(podKey);
            if (members.isEmpty()) {
                podsByIdentity.remove(id.id());
                IdentityPolicy ip = subjects.remove(id.id());
                if (ip != null) ip.detach();
                dirty.remove(id.id());
            }
        }
        if (allocator.release(id)) cache.removeIdentity(id.id());
    }

    private void upsertNodeIps(Node n) {
        Node old = nodes.put(n.name(), n);
        if (old != null) for (String ip : old.ips()) ipcache.remove(Cidr.host(Cidr.parseAddress(ip)));
        int id = n.name().equals(localNode) ? ReservedIdentity.HOST.id : ReservedIdentity.REMOTE_NODE.id;
        for (String ip : n.ips()) ipcache.upsert(Cidr.host(Cidr.parseAddress(ip)), id);
    }

    private void addCidrs(Policy p) {
        for (Cidr c : cidrsOf(p)) {
            Identity id = allocator.allocate(PeerSelectors.cidrLabels(c));
            cidrIdentities.put(c, id);
            cache.addIdentity(id);
            ipcache.upsert(c, id.id());
        }
    }

    private void releaseCidrs(Policy p) {
        for (Cidr c : cidrsOf(p)) {
            Identity id = cidrIdentities.get(c);
            if (id == null) continue;
            ipcache.remove(c);
            if (allocator.release(id)) {
                cidrIdentities.remove(c);
                cache.removeIdentity(id.id());
            }
        }
    }

    /** Every prefix a policy names (CIDRs and their excepts), each once; /0 is the world and needs none. */
    private static Set<Cidr> cidrsOf(Policy p) {
        Set<Cidr> out = new HashSet<>();
        for (Rule r : p.rules()) {
            for (Direction d : Direction.values()) {
                for (PeerRule pr : r.rules(d)) {
                    for (Peer peer : pr.peers()) {
                        if (peer instanceof Peer.CidrBlock b) {
                            if (b.cidr().bits() > 0) out.add(b.cidr());
                            out.addAll(b.except());
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Recomputes the fqdn: labels of every learned address against the current toFQDNs selectors. */
    private void refreshFqdnIdentities() {
        fqdnSelectors = null; // the policies may have changed
        refreshFqdnIdentities(null);
    }

    /** The toFQDNs selectors of all policies, computed once per policy change. */
    private List<DnsRule> fqdnSelectors;

    /** Recomputes the fqdn: labels of the learned address {@code only} (every one when null). */
    private void refreshFqdnIdentities(Cidr only) {
        if (fqdnLearned.isEmpty() && fqdnLearnedBy.isEmpty() && fqdnIdentities.isEmpty()) return;
        if (fqdnSelectors == null) {
            List<DnsRule> all = new ArrayList<>();
            for (Policy p : policies.values()) {
                for (Rule r : p.rules()) {
                    for (PeerRule pr : r.egress()) {
                        for (Peer peer : pr.peers()) {
                            if (peer instanceof Peer.Fqdn f) all.add(dnsRule(f));
                        }
                    }
                }
            }
            fqdnSelectors = all;
        }
        List<DnsRule> selectors = fqdnSelectors;
        Map<Cidr, Set<Label>> labelsByIp = new HashMap<>();
        Set<Cidr> ips = new HashSet<>();
        if (only != null) {
            if (fqdnLearned.containsKey(only) || fqdnLearnedBy.containsKey(only)) ips.add(only);
        } else {
            ips.addAll(fqdnLearned.keySet());
            ips.addAll(fqdnLearnedBy.keySet());
        }
        for (Cidr ip : ips) {
            Set<Label> ls = new HashSet<>(PeerSelectors.cidrLabels(ip).asList());
            for (String name : fqdnLearned.getOrDefault(ip, Set.of())) {
                for (DnsRule s : selectors) {
                    if (s.matches(name)) ls.add(new Label(Label.SOURCE_FQDN, s.matchName() != null ? s.matchName() : s.matchPattern(), ""));
                }
            }
            for (Map.Entry<Integer, Set<String>> bySubject : fqdnLearnedBy.getOrDefault(ip, Map.of()).entrySet()) {
                for (String name : bySubject.getValue()) {
                    for (DnsRule s : selectors) {
                        if (s.matches(name)) ls.add(PeerSelectors.learnedFqdnLabel(s.matchName() != null ? s.matchName() : s.matchPattern(), bySubject.getKey()));
                    }
                }
            }
            labelsByIp.put(ip, ls);
        }
        for (Map.Entry<Cidr, Set<Label>> e : labelsByIp.entrySet()) {
            LabelSet labels = LabelSet.of(e.getValue());
            Identity old = fqdnIdentities.get(e.getKey());
            if (old != null && old.labels().equals(labels)) continue;
            Identity id = allocator.allocate(labels);
            cache.addIdentity(id);
            fqdnIdentities.put(e.getKey(), id);
            ipcache.upsert(e.getKey(), id.id());
            if (old != null) {
                ipcache.remove(e.getKey());
                if (allocator.release(old)) cache.removeIdentity(old.id());
            }
        }
        for (Cidr gone : only != null ? List.of(only) : new ArrayList<>(fqdnIdentities.keySet())) { // learned by nobody any more
            if (labelsByIp.containsKey(gone) || !fqdnIdentities.containsKey(gone)) continue;
            Identity old = fqdnIdentities.remove(gone);
            ipcache.remove(gone);
            if (allocator.release(old)) cache.removeIdentity(old.id());
        }
        generation++;
    }

    // ---- compilation -----------------------------------------------------------------------------

    private void markSelectedBy(Policy p) {
        if (p == null) return;
        for (Map.Entry<Integer, IdentityPolicy> e : subjects.entrySet()) {
            for (Rule r : p.rules()) {
                if (selects(r, e.getValue().subject)) {
                    dirty.add(e.getKey());
                    break;
                }
            }
        }
        // fromRequires/toRequires and named ports reach beyond the rules' own subjects only through
        // the subjects they select, which the loop above covers
    }

    private void markServiceUsers() {
        for (Map.Entry<Integer, IdentityPolicy> e : subjects.entrySet()) {
            for (L4Filter f : e.getValue().filters) {
                if (f.rule != null && ruleUsesServices(f.rule)) {
                    dirty.add(e.getKey());
                    break;
                }
            }
        }
        generation++;
    }

    private boolean ruleUsesServices(RuleInfo info) {
        Policy p = policies.get(info.policy());
        if (p == null) return false;
        for (Rule r : p.rules()) for (PeerRule pr : r.egress()) for (Peer peer : pr.peers()) if (peer instanceof Peer.Service) return true;
        return false;
    }

    private boolean usesNamedPorts() {
        for (Policy p : policies.values()) for (Rule r : p.rules()) for (Direction d : Direction.values())
            for (PeerRule pr : r.rules(d)) for (PortRule pt : pr.toPorts()) for (PortProtocol pp : pt.ports())
                if (pp.namedPort() != null) return true;
        return false;
    }

    static boolean selects(Rule r, Identity subject) {
        return r.nodeSelector() == null && r.endpointSelector().matches(subject.labels());
    }

    private void flush() {
        if (dirty.isEmpty()) return;
        for (int id : dirty) {
            if (!podsByIdentity.containsKey(id)) continue;
            rebuild(id);
        }
        dirty.clear();
        cache.gc();
        generation++;
    }

    private void rebuild(int subjectId) {
        IdentityPolicy old = subjects.remove(subjectId);
        if (old != null) old.detach();
        Identity subject = identity(subjectId);
        IdentityPolicy ip = new IdentityPolicy(subject);
        List<Rule> selecting = new ArrayList<>();
        for (Policy p : policies.values()) {
            for (Rule r : p.rules()) if (selects(r, subject)) selecting.add(r);
        }
        for (Direction d : Direction.values()) {
            List<Requirement> requires = new ArrayList<>();
            for (Rule r : selecting) {
                if (r.defaultDeny(d)) ip.selectedWithDefaultDeny.put(d, true);
                for (PeerRule pr : r.rules(d)) if (!pr.deny()) requires.addAll(pr.requires());
            }
            for (Rule r : selecting) {
                for (PeerRule pr : r.rules(d)) compile(ip, r, pr, d, requires);
            }
        }
        subjects.put(subjectId, ip);
    }

    private void compile(IdentityPolicy ip, Rule r, PeerRule pr, Direction d, List<Requirement> requires) {
        RuleInfo info = registry.register(r.policy(), pr.path(), d, pr.deny());
        List<CachedSelector> peers = new ArrayList<>();
        boolean wildcard = false;
        for (Peer peer : pr.peers()) {
            List<LabelSelector> sels = PeerSelectors.of(peer, services.values());
            if (peer instanceof Peer.Fqdn f) { // what the DNS proxy learned for this subject (learnFqdn(int, ...))
                sels = new ArrayList<>(sels);
                sels.add(PeerSelectors.learnedFqdn(f, ip.subject.id()));
            }
            for (LabelSelector sel : sels) {
                if (sel == null) {
                    wildcard = true;
                } else {
                    if (peer instanceof Peer.Endpoints && !pr.deny()) sel = sel.and(requires);
                    peers.add(cache.intern(sel));
                }
            }
        }
        if (wildcard) peers = java.util.Collections.singletonList(null);
        if (peers.isEmpty()) return;
        for (L4 l4 : l4Of(pr, d, ip.subject)) {
            for (CachedSelector cs : peers) {
                L4Filter f = new L4Filter(ip, cs, l4.protocol, l4.low, l4.high, l4.action, info, l4.portRule == null ? null : l4.portRule.l7());
                if (cs != null) cs.users.add(f);
                ip.addFilter(f);
            }
        }
    }

    private record L4(int protocol, int low, int high, Action action, PortRule portRule) {}

    private List<L4> l4Of(PeerRule pr, Direction d, Identity subject) {
        List<L4> out = new ArrayList<>();
        if (pr.allPorts()) {
            out.add(new L4(0, 0, 65535, pr.deny() ? Action.DENY : Action.ALLOW, null));
            return out;
        }
        for (IcmpField f : pr.icmps()) {
            out.add(new L4(f.protocol().number, f.type(), f.type(), pr.deny() ? Action.DENY : Action.ALLOW, null));
        }
        for (PortRule pt : pr.toPorts()) {
            Action action = pr.deny() ? Action.DENY : pt.hasL7() ? Action.REDIRECT : Action.ALLOW;
            if (pt.ports().isEmpty()) {
                out.add(new L4(0, 0, 65535, action, pt));
                continue;
            }
            for (PortProtocol pp : pt.ports()) {
                if (pp.namedPort() != null) {
                    for (ContainerPort cp : namedPorts(pp.namedPort(), d, subject)) {
                        if (pp.protocol() == Protocol.ANY || pp.protocol() == cp.protocol()) {
                            out.add(new L4(cp.protocol().number, cp.port(), cp.port(), action, pt));
                        }
                    }
                } else if (pp.protocol() == Protocol.ANY && !pp.isWildcard()) {
                    for (Protocol p : Protocol.PORTED) out.add(new L4(p.number, pp.low(), pp.high(), action, pt));
                } else {
                    out.add(new L4(pp.protocol().number, pp.low(), pp.high(), action, pt));
                }
            }
        }
        return out;
    }

    /**
     * Resolves a named port: at ingress against the subject's own pods, at egress against every pod of the
     * cluster (the peer is not known when the entry is made), as Cilium does.
     */
    private Set<ContainerPort> namedPorts(String name, Direction d, Identity subject) {
        Set<ContainerPort> out = new HashSet<>();
        Collection<String> keys = d == Direction.INGRESS ? podsByIdentity.getOrDefault(subject.id(), Set.of()) : pods.keySet();
        for (String k : keys) {
            Pod p = pods.get(k);
            if (p == null) continue;
            for (ContainerPort cp : p.ports()) if (name.equals(cp.name())) out.add(cp);
        }
        return out;
    }
}
