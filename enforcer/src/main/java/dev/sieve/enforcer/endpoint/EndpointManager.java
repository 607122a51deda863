package dev.sieve.enforcer.endpoint;

import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.EndpointConfig;
import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.IpPrefix;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import dev.sieve.enforcer.policymap.PolicyKeyGenerator;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.enforcer.policymap.PolicyUpdatePlan;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.PolicyEntry;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.net.Cidr;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Keeps the kernel in step with the policy engine: attaches the datapath to the host-side veth of every
 * pod of this node (found from the host's route to the pod's address, whoever created the pod), programs
 * each endpoint's config and policy entries, the ipcache, and detaches from pods that are gone.
 *
 * <p>The endpoint id is the host-side interface index, so a restarted agent finds the same keys in the
 * pinned maps and rewrites identical content: no drop or allow flap.
 *
 * <p>Two paths: {@link #sync} compares the whole ipcache and every endpoint's policy keys with the engine (a
 * manifest change, the periodic consistency pass); {@link #syncAddresses} writes only what learned addresses
 * change (their ipcache entries and the policy keys of their peer identities), from what the last pass wrote,
 * without reading the maps. Both leave the maps equal (IncrementalSyncE2ETest).
 */
public final class EndpointManager {

    private static final Logger LOG = Logger.getLogger(EndpointManager.class.getName());

    /** What one pass changed, and what failed (an unreachable pod is reported, never fatal). */
    public record SyncReport(int endpoints, int attached, int detached, int policyChanges, int ipcacheChanges,
                             List<String> errors) {}

    private final Datapath datapath;
    private final String nodeName;
    private final ProxyPorts proxyPorts;
    private final Map<String, String> attached = new HashMap<>(); // pod key -> host interface
    private final Map<String, Integer> ifindexes = new HashMap<>();
    /** The policy keys each attached endpoint (ifindex) holds, by peer identity, as the last pass wrote them. */
    private final Map<Integer, Map<Integer, Map<PolicyKey, PolicyValue>>> written = new HashMap<>();
    private long attachErrors;
    private long syncErrors;
    private long staleCollected;
    private final Set<Integer> notReady = new HashSet<>();
    private long syncedGeneration = -1;
    private boolean lastSyncFailed;
    private long fullSyncs;
    private long incrementalSyncs;

    /** The node proxy's listener port for an L7 protocol and the direction whose policy redirects to it. */
    @FunctionalInterface
    public interface ProxyPorts {
        int port(L7Rules.L7Protocol protocol, dev.sieve.policy.model.Direction direction);
    }

    /**
     * @param nodeName pods whose spec.nodeName is this (or empty) are this node's
     * @param proxyPorts where L7 redirects go: the node proxy's listener for the L7 rules' protocol and direction
     */
    public EndpointManager(Datapath datapath, String nodeName, ProxyPorts proxyPorts) {
        this.datapath = datapath;
        this.nodeName = nodeName;
        this.proxyPorts = proxyPorts;
    }

    /** Every redirect to one port (tests). */
    public EndpointManager(Datapath datapath, String nodeName, int proxyPort) {
        this(datapath, nodeName, (p, d) -> proxyPort);
    }

    public long attachErrors() {
        return attachErrors;
    }

    /** The host interface of each attached pod. */
    public synchronized Map<String, String> attached() {
        return Map.copyOf(attached);
    }

    /** The endpoint ID of an attached pod (its host interface's index, as in its flows), or 0. */
    public synchronized int endpointId(String podKey) {
        return ifindexes.getOrDefault(podKey, 0);
    }

    /**
     * Syncs only when the engine changed since the last sync or that sync left something to retry (a pod
     * whose interface was not there yet); otherwise does nothing and returns null. For periodic resyncs.
     * Before the first {@link #sync} (no valid manifest set applied yet, e.g. an agent restarted on a
     * broken set) it never touches the kernel: the pinned state stays in force, rather than being
     * "synced" to the empty engine.
     */
    public synchronized SyncReport syncIfNeeded(PolicyEngine engine) {
        if (syncedGeneration < 0) return null;
        if (engine.generation() == syncedGeneration && !lastSyncFailed) return null;
        return sync(engine);
    }

    public synchronized long fullSyncs() {
        return fullSyncs;
    }

    public synchronized long incrementalSyncs() {
        return incrementalSyncs;
    }

    /**
     * The periodic consistency pass: a full {@link #sync} unless nothing was synced yet (then, as in
     * {@link #syncIfNeeded}, the pinned state stays); the report's changes are drift the other paths left.
     */
    public synchronized SyncReport resync(PolicyEngine engine) {
        return syncedGeneration < 0 ? null : sync(engine);
    }

    public synchronized SyncReport sync(PolicyEngine engine) {
        long generation = engine.generation();
        fullSyncs++;
        lastSyncFailed = true; // until this pass completes (a write that throws leaves it so: the next pass is full)
        List<String> errors = new ArrayList<>();
        int ipcacheErrors = errors.size();
        int ipcacheChanges = syncIpcache(engine, errors);
        // An address missing from the ipcache looks like the world to every program on the node: allows for the
        // world or a CIDR would match it, denies for its pod would not. No endpoint is enforced on a partial ipcache.
        ipcacheIncomplete = errors.size() > ipcacheErrors;
        int attachedNow = 0, policyChanges = 0;
        Set<String> seen = new HashSet<>();
        for (Endpoint ep : engine.endpoints()) {
            if (!isLocal(ep) || ep.pod().ips().isEmpty()) continue;
            seen.add(ep.key());
            String ifname = attached.get(ep.key());
            boolean isNew = ifname == null;
            int ifindex;
            if (isNew) {
                try {
                    ifname = datapath.interfaceFor(ep.pod().ips().getFirst());
                    if (ifname == null || ifname.equals("lo")) throw new IllegalStateException("no host route to " + ep.pod().ips().getFirst());
                    ifindex = datapath.ifindex(ifname);
                } catch (RuntimeException e) {
                    attachErrors++;
                    errors.add(ep.key() + ": attach failed: " + e.getMessage());
                    continue;
                }
            } else {
                ifindex = ifindexes.get(ep.key());
            }
            // The endpoint entry and its policy go in before the programs are attached (F17): a new pod's first
            // packet already meets its policy. What cannot be written fully leaves the endpoint dropping (F5).
            EndpointPolicy pol = engine.policyOf(ep.key());
            List<PolicyMapEntry> entries = entries(pol);
            boolean enforceable = program(ep, pol, entries, ifindex, errors);
            if (notReady.contains(ifindex)) written.remove(ifindex); // the next full pass writes it whole
            else written.put(ifindex, byPeer(PolicyKeyGenerator.generate(ifindex, entries)));
            policyChanges += lastPolicyChanges;
            if (!isNew) continue;
            if (!enforceable) {
                attachErrors++;
                errors.add(ep.key() + ": not attached to " + ifname + ": neither its endpoint entry nor a not-ready mark could be written");
                continue;
            }
            try {
                datapath.attach(ifname);
                attached.put(ep.key(), ifname);
                ifindexes.put(ep.key(), ifindex);
                attachedNow++;
            } catch (RuntimeException e) {
                attachErrors++;
                errors.add(ep.key() + ": attach failed: " + e.getMessage());
            }
        }
        int detached = 0;
        for (String key : new ArrayList<>(attached.keySet())) {
            if (seen.contains(key)) continue;
            String ifname = attached.remove(key);
            Integer ifindex = ifindexes.remove(key);
            if (ifindex != null) written.remove(ifindex);
            try {
                if (ifindex != null) {
                    notReady.remove(ifindex);
                    datapath.removeEndpoint(ifindex);
                }
                datapath.detach(ifname);
            } catch (RuntimeException e) {
                errors.add(key + ": detach from " + ifname + " failed: " + e.getMessage()); // the veth may be gone already
            }
            detached++;
        }
        if (syncedGeneration < 0) collectStale(errors);
        for (String e : errors) LOG.warning(e);
        syncErrors += errors.size();
        syncedGeneration = generation;
        lastSyncFailed = !errors.isEmpty();
        return new SyncReport(seen.size(), attachedNow, detached, policyChanges, ipcacheChanges, List.copyOf(errors));
    }

    /**
     * The incremental path for learned addresses (toFQDNs): writes the ipcache entries of {@code hosts} and, in
     * every attached endpoint, the policy keys of {@code peers} (the identities those hosts had before the change
     * and have now), nothing else, and reads no map. New keys go in before the ipcache points at their identity,
     * and keys of an identity that went are removed after the ipcache stopped pointing at it, so no packet sees a
     * half-written state. It needs the maps to have been in step with the engine at {@code generationBefore} (the
     * engine's generation before the caller's change); otherwise, or if a write fails, it runs the full
     * {@link #sync}.
     */
    public synchronized SyncReport syncAddresses(PolicyEngine engine, long generationBefore, Collection<Cidr> hosts,
                                                 Collection<Integer> peers) {
        if (syncedGeneration < 0 || syncedGeneration != generationBefore || lastSyncFailed) return sync(engine);
        long generation = engine.generation();
        lastSyncFailed = true;
        try {
            Map<Integer, PolicyUpdatePlan> plans = new LinkedHashMap<>();
            for (Map.Entry<String, Integer> a : ifindexes.entrySet()) {
                EndpointPolicy pol = engine.policyOf(a.getKey());
                if (pol == null) return sync(engine); // an endpoint went: not a change this path knows
                int ifindex = a.getValue();
                Map<Integer, Map<PolicyKey, PolicyValue>> have = written.computeIfAbsent(ifindex, k -> new HashMap<>());
                Map<PolicyKey, PolicyValue> current = new HashMap<>();
                List<PolicyMapEntry> wanted = new ArrayList<>();
                for (int peer : peers) {
                    if (peer == PolicyMapEntry.ANY_IDENTITY) continue;
                    current.putAll(have.getOrDefault(peer, Map.of()));
                    for (var d : dev.sieve.policy.model.Direction.values()) {
                        for (PolicyEntry e : pol.entries(d, peer)) wanted.add(entry(d, e));
                    }
                }
                Map<PolicyKey, PolicyValue> want = PolicyKeyGenerator.generate(ifindex, wanted);
                PolicyUpdatePlan plan = PolicyUpdatePlan.between(current, want);
                if (!plan.isEmpty()) plans.put(ifindex, plan);
                for (int peer : peers) have.remove(peer);
                byPeer(want).forEach(have::put);
            }
            int policyChanges = 0, ipcacheChanges = 0;
            for (Map.Entry<Integer, PolicyUpdatePlan> p : plans.entrySet()) {
                PolicyUpdatePlan plan = p.getValue();
                datapath.applyPolicyPlanOfInterface(p.getKey(), new PolicyUpdatePlan(plan.upsertDeny(), List.of(), plan.upsertAllow(), List.of()));
                policyChanges += plan.changes();
            }
            for (Cidr host : hosts) {
                Integer id = engine.ipcache().get(host);
                String prefix = host.toString();
                if (id != null) datapath.upsertIpcache(prefix, id);
                else datapath.deleteIpcache(prefix);
                ipcacheChanges++;
            }
            for (Map.Entry<Integer, PolicyUpdatePlan> p : plans.entrySet()) {
                PolicyUpdatePlan plan = p.getValue();
                datapath.applyPolicyPlanOfInterface(p.getKey(), new PolicyUpdatePlan(Map.of(), plan.deleteAllow(), Map.of(), plan.deleteDeny()));
            }
            incrementalSyncs++;
            syncedGeneration = generation;
            lastSyncFailed = false;
            return new SyncReport(ifindexes.size(), 0, 0, policyChanges, ipcacheChanges, List.of());
        } catch (RuntimeException e) {
            LOG.warning("incremental datapath sync failed (" + e.getMessage() + "); running the full sync");
            return sync(engine);
        }
    }

    private static Map<Integer, Map<PolicyKey, PolicyValue>> byPeer(Map<PolicyKey, PolicyValue> keys) {
        Map<Integer, Map<PolicyKey, PolicyValue>> out = new HashMap<>();
        keys.forEach((k, v) -> out.computeIfAbsent(k.identity(), i -> new HashMap<>()).put(k, v));
        return out;
    }

    private int lastPolicyChanges;
    private boolean ipcacheIncomplete;

    /**
     * Writes one endpoint's entry and policy. An endpoint that is not fully programmed (a full map) is marked not
     * ready, so its programs drop everything with DROP_EP_NOT_READY, and is retried on the next resync. While
     * marked, its policy is written before the entry that clears the mark. False when not even the mark could be
     * written (no array slot and a full endpoint map).
     */
    private boolean program(Endpoint ep, EndpointPolicy pol, List<PolicyMapEntry> entries, int ifindex, List<String> errors) {
        lastPolicyChanges = 0;
        EndpointConfig cfg = new EndpointConfig(ifindex, ep.identity().id(),
                pol.enforced(dev.sieve.policy.model.Direction.INGRESS), pol.enforced(dev.sieve.policy.model.Direction.EGRESS), pol.audit(),
                ownAddresses(ep.pod().ips()));
        try {
            if (ipcacheIncomplete) throw new IllegalStateException("the ipcache is incomplete (see its errors)");
            if (notReady.contains(ifindex)) {
                lastPolicyChanges = datapath.applyPolicy(ifindex, entries).changes();
                datapath.setEndpoint(ifindex, cfg);
            } else {
                datapath.setEndpoint(ifindex, cfg);
                lastPolicyChanges = datapath.applyPolicy(ifindex, entries).changes();
            }
            notReady.remove(ifindex);
            return true;
        } catch (RuntimeException e) {
            errors.add(ep.key() + ": cannot be programmed, dropping its traffic (DROP_EP_NOT_READY): " + e.getMessage());
            notReady.add(ifindex);
            try {
                return datapath.markNotReady(ifindex, cfg);
            } catch (RuntimeException e2) {
                errors.add(ep.key() + ": cannot mark not ready: " + e2.getMessage());
                return false;
            }
        }
    }

    /**
     * Entries pinned by an earlier run for endpoints that no longer exist (pods deleted while the agent was down):
     * their endpoint entries, policy keys and conntrack. Runs once, after the first sync.
     */
    private void collectStale(List<String> errors) {
        Set<Integer> live = new HashSet<>(ifindexes.values());
        try {
            for (var e : datapath.endpoints().entrySet()) {
                // an interface that still exists may be a pod not resolved this time: its entry keeps enforcing
                if (live.contains(e.getKey()) || datapath.interfaceExists(e.getKey())) {
                    live.add(e.getValue().endpointId());
                    continue;
                }
                datapath.removeEndpoint(e.getKey());
                staleCollected++;
            }
            for (int endpointId : datapath.policyEndpointIds()) {
                if (live.contains(endpointId)) continue;
                datapath.applyPolicy(endpointId, List.of());
                datapath.flushConntrack(endpointId);
                staleCollected++;
            }
        } catch (RuntimeException e) {
            errors.add("collecting stale pinned endpoints failed: " + e.getMessage());
        }
    }

    /** Datapath writes that failed (entries, endpoints), each reported and retried: sieve_datapath_sync_errors_total. */
    public synchronized long syncErrors() {
        return syncErrors;
    }

    /** Endpoints currently marked not ready (dropping everything because a map was full). */
    public synchronized int notReadyEndpoints() {
        return notReady.size();
    }

    /** Pinned endpoints of earlier runs removed because their pod is gone. */
    public synchronized long staleCollected() {
        return staleCollected;
    }

    /** The pod's addresses the datapath lets it send from: the first of each family (a pod has one per family). */
    static List<String> ownAddresses(List<String> ips) {
        List<String> out = new ArrayList<>();
        boolean v4 = false, v6 = false;
        for (String ip : ips) {
            boolean six = ip.contains(":");
            if (six ? v6 : v4) continue;
            out.add(ip);
            if (six) v6 = true;
            else v4 = true;
        }
        return out;
    }

    private boolean isLocal(Endpoint ep) {
        String n = ep.pod().nodeName();
        return n.isEmpty() || n.equals(nodeName);
    }

    /** The engine's entries in the datapath's form; REDIRECT goes to the proxy port of its L7 protocol and direction. */
    List<PolicyMapEntry> entries(EndpointPolicy pol) {
        List<PolicyMapEntry> out = new ArrayList<>();
        for (var d : dev.sieve.policy.model.Direction.values()) {
            for (PolicyEntry e : pol.entries(d)) out.add(entry(d, e));
        }
        return out;
    }

    private PolicyMapEntry entry(dev.sieve.policy.model.Direction d, PolicyEntry e) {
        Direction dd = d == dev.sieve.policy.model.Direction.INGRESS ? Direction.INGRESS : Direction.EGRESS;
        Action a = switch (e.action()) {
            case ALLOW -> Action.ALLOW;
            case DENY -> Action.DENY;
            case REDIRECT -> Action.REDIRECT;
        };
        return new PolicyMapEntry(dd, e.peerIdentity(), e.protocol(), e.portLow(), e.portHigh(), a,
                a == Action.REDIRECT ? proxyPorts.port(l7Protocol(e), d) : 0, e.ruleId());
    }

    private static L7Rules.L7Protocol l7Protocol(PolicyEntry e) {
        L7Rules.L7Protocol p = e.l7() == null ? null : e.l7().protocol();
        return p != null ? p : L7Rules.L7Protocol.HTTP;
    }

    /** Deletes stale entries before adding (room in a full map); each entry's failure is reported, the rest goes on. */
    private int syncIpcache(PolicyEngine engine, List<String> errors) {
        Map<Cidr, Integer> want = engine.ipcache().snapshot();
        Map<String, Integer> have = new HashMap<>();
        for (Map.Entry<IpPrefix, Integer> h : datapath.ipcache().entrySet()) have.put(h.getKey().toString(), h.getValue());
        Map<String, Integer> wanted = new HashMap<>();
        for (Map.Entry<Cidr, Integer> e : want.entrySet()) {
            wanted.put(IpPrefix.parse(e.getKey().toString()).toString(), e.getValue()); // the map's spelling (IPv6 uncompressed)
        }
        int changes = 0;
        for (String stale : have.keySet()) { // in the map, no longer in the engine
            if (wanted.containsKey(stale)) continue;
            try {
                datapath.deleteIpcache(stale);
                changes++;
            } catch (RuntimeException e) {
                errors.add("ipcache " + stale + ": delete failed: " + e.getMessage());
            }
        }
        for (Map.Entry<String, Integer> e : wanted.entrySet()) {
            Integer cur = have.get(e.getKey());
            if (cur != null && cur.intValue() == e.getValue()) continue;
            try {
                datapath.upsertIpcache(e.getKey(), e.getValue());
                changes++;
            } catch (RuntimeException ex) {
                errors.add("ipcache " + e.getKey() + " -> " + e.getValue() + ": " + ex.getMessage());
            }
        }
        return changes;
    }
}
