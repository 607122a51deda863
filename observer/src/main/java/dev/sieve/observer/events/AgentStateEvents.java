package dev.sieve.observer.events;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import dev.sieve.api.flow.AgentEvent;
import dev.sieve.api.flow.AgentEventType;
import dev.sieve.api.flow.EndpointRegenNotification;
import dev.sieve.api.flow.EndpointUpdateNotification;
import dev.sieve.api.flow.IPCacheNotification;
import dev.sieve.api.flow.PolicyUpdateNotification;
import dev.sieve.api.flow.TimeNotification;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PolicyKey;
import dev.sieve.policy.net.Cidr;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Turns the agent's state changes into the agent events Cilium emits: after each applied change the engine's
 * policies, this node's endpoints and the ipcache are compared with what was there before, and every difference
 * is published (POLICY_UPDATED/DELETED, ENDPOINT_CREATED/DELETED, ENDPOINT_REGENERATE_SUCCESS for every local
 * endpoint when its policy inputs changed, IPCACHE_UPSERTED/DELETED). Not thread-safe: call under the agent's lock.
 */
public final class AgentStateEvents {

    private record PolicyState(Policy policy, List<String> labels) {}

    private record EndpointState(int identity, List<String> labels, String namespace, String pod) {}

    private record IpState(int identity, String namespace, String pod) {}

    private final AgentEventHub hub;
    private final String nodeName;
    private Map<PolicyKey, PolicyState> policies = Map.of();
    private Map<String, EndpointState> endpoints = Map.of();
    private Map<Cidr, IpState> ipcache = Map.of();

    public AgentStateEvents(AgentEventHub hub, String nodeName) {
        this.hub = hub;
        this.nodeName = nodeName;
    }

    public void started() {
        Instant now = Instant.now();
        hub.publish(AgentEvent.newBuilder().setType(AgentEventType.AGENT_STARTED)
                .setAgentStart(TimeNotification.newBuilder()
                        .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano())))
                .build());
    }

    /** Publishes what changed since the last call; {@code endpointIds} gives a pod's endpoint ID (0 if none yet). */
    public void update(PolicyEngine engine, ToIntFunction<String> endpointIds) {
        long revision = engine.generation();
        Map<PolicyKey, PolicyState> nextPolicies = new HashMap<>();
        for (Policy p : engine.policies()) nextPolicies.put(p.key(), new PolicyState(p, policyLabels(p.key())));
        boolean policyChanged = false;
        for (Map.Entry<PolicyKey, PolicyState> e : nextPolicies.entrySet()) {
            PolicyState before = policies.get(e.getKey());
            if (before != null && before.policy().equals(e.getValue().policy())) continue;
            policyChanged = true;
            hub.publish(policyEvent(AgentEventType.POLICY_UPDATED, e.getValue(), revision));
        }
        for (Map.Entry<PolicyKey, PolicyState> e : policies.entrySet()) {
            if (nextPolicies.containsKey(e.getKey())) continue;
            policyChanged = true;
            hub.publish(policyEvent(AgentEventType.POLICY_DELETED, e.getValue(), revision));
        }
        policies = nextPolicies;

        Map<String, EndpointState> nextEndpoints = new HashMap<>();
        for (Endpoint ep : engine.endpoints()) {
            String node = ep.pod().nodeName();
            if (!node.isEmpty() && !node.equals(nodeName) || ep.identity() == null) continue; // another node's pod: no endpoint here
            nextEndpoints.put(ep.key(), new EndpointState(ep.identity().id(), labels(ep.identity().labels()),
                    ep.pod().namespace(), ep.pod().name()));
        }
        for (Map.Entry<String, EndpointState> e : endpoints.entrySet()) {
            if (!nextEndpoints.containsKey(e.getKey())) {
                hub.publish(endpointEvent(AgentEventType.ENDPOINT_DELETED, e.getValue(), endpointIds.applyAsInt(e.getKey())));
            }
        }
        for (Map.Entry<String, EndpointState> e : nextEndpoints.entrySet()) {
            EndpointState before = endpoints.get(e.getKey());
            int id = endpointIds.applyAsInt(e.getKey());
            if (before == null) hub.publish(endpointEvent(AgentEventType.ENDPOINT_CREATED, e.getValue(), id));
            if (before == null || policyChanged || !before.equals(e.getValue())) {
                hub.publish(AgentEvent.newBuilder().setType(AgentEventType.ENDPOINT_REGENERATE_SUCCESS)
                        .setEndpointRegenerate(EndpointRegenNotification.newBuilder().setId(id).addAllLabels(e.getValue().labels()))
                        .build());
            }
        }
        endpoints = nextEndpoints;

        Map<Cidr, IpState> nextIpcache = new HashMap<>();
        for (Map.Entry<Cidr, Integer> e : engine.ipcache().snapshot().entrySet()) {
            Cidr c = e.getKey();
            Endpoint ep = c.bits() == c.address().length * 8 ? engine.endpointByIp(c.address()) : null;
            nextIpcache.put(c, new IpState(e.getValue(), ep == null ? "" : ep.pod().namespace(), ep == null ? "" : ep.pod().name()));
        }
        for (Map.Entry<Cidr, IpState> e : nextIpcache.entrySet()) {
            IpState before = ipcache.get(e.getKey());
            if (Objects.equals(before, e.getValue())) continue;
            IPCacheNotification.Builder n = ipcacheNotification(e.getKey(), e.getValue());
            if (before != null && before.identity() != e.getValue().identity()) n.setOldIdentity(UInt32Value.of(before.identity()));
            hub.publish(AgentEvent.newBuilder().setType(AgentEventType.IPCACHE_UPSERTED).setIpcacheUpdate(n).build());
        }
        for (Map.Entry<Cidr, IpState> e : ipcache.entrySet()) {
            if (nextIpcache.containsKey(e.getKey())) continue;
            hub.publish(AgentEvent.newBuilder().setType(AgentEventType.IPCACHE_DELETED)
                    .setIpcacheUpdate(ipcacheNotification(e.getKey(), e.getValue())).build());
        }
        ipcache = nextIpcache;
    }

    /** Cilium's labels of a policy's rules: where it came from, its name and namespace. */
    static List<String> policyLabels(PolicyKey key) {
        List<String> out = new ArrayList<>();
        out.add("k8s:io.cilium.k8s.policy.derived-from=" + key.kind().kind);
        out.add("k8s:io.cilium.k8s.policy.name=" + key.name());
        if (key.namespace() != null && !key.namespace().isEmpty()) out.add("k8s:io.cilium.k8s.policy.namespace=" + key.namespace());
        return out;
    }

    private static AgentEvent policyEvent(AgentEventType type, PolicyState p, long revision) {
        return AgentEvent.newBuilder().setType(type).setPolicyUpdate(PolicyUpdateNotification.newBuilder()
                .addAllLabels(p.labels()).setRevision(revision).setRuleCount(p.policy().rules().size())).build();
    }

    private static AgentEvent endpointEvent(AgentEventType type, EndpointState ep, int id) {
        return AgentEvent.newBuilder().setType(type).setEndpointUpdate(EndpointUpdateNotification.newBuilder()
                .setId(id).addAllLabels(ep.labels()).setNamespace(ep.namespace()).setPodName(ep.pod())).build();
    }

    private static IPCacheNotification.Builder ipcacheNotification(Cidr cidr, IpState s) {
        return IPCacheNotification.newBuilder().setCidr(cidr.toString()).setIdentity(s.identity())
                .setNamespace(s.namespace()).setPodName(s.pod());
    }

    private static List<String> labels(Iterable<Label> labels) {
        List<String> out = new ArrayList<>();
        for (Label l : labels) out.add(l.toString());
        return out;
    }
}
