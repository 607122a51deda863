package dev.sieve.agent;

import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.model.PolicyKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@link EndpointResolver} over the policy engine. The engine is not thread-safe: callers serialise engine
 * updates and enrichment (the node agent does both on its control thread, or guards them with one lock).
 * Policy labels follow Cilium's derived labels: {@code k8s:io.cilium.k8s.policy.derived-from=<kind>},
 * {@code k8s:io.cilium.k8s.policy.name=<name>}, {@code k8s:io.cilium.k8s.policy.namespace=<ns>}.
 */
public final class PolicyEngineResolver implements EndpointResolver {

    private final PolicyEngine engine;

    public PolicyEngineResolver(PolicyEngine engine) {
        this.engine = engine;
    }

    @Override
    public List<String> identityLabels(int id) {
        Identity identity = engine.identity(id);
        if (identity == null) return List.of();
        List<String> out = new ArrayList<>(identity.labels().size());
        for (Label l : identity.labels()) out.add(l.toString());
        return out;
    }

    @Override
    public PodRef podByAddress(byte[] address) {
        Endpoint ep = engine.endpointByIp(address);
        if (ep == null) return null;
        Pod pod = ep.pod();
        return new PodRef(pod.namespace(), pod.name(), workloads(pod.name(), pod.labels()));
    }

    @Override
    public int identityOf(byte[] address) {
        return engine.identityOf(address);
    }

    @Override
    public PolicyRef rule(int ruleId) {
        if (ruleId == 0) return null;
        RuleInfo info = engine.rules().lookup(ruleId);
        if (info == null) return null;
        PolicyKey key = info.policy();
        List<String> labels = new ArrayList<>(3);
        labels.add("k8s:io.cilium.k8s.policy.derived-from=" + key.kind().kind);
        labels.add("k8s:io.cilium.k8s.policy.name=" + key.name());
        if (!key.namespace().isEmpty()) labels.add("k8s:io.cilium.k8s.policy.namespace=" + key.namespace());
        return new PolicyRef(key.kind().kind, key.namespace(), key.name(), labels, engine.generation(), info.deny());
    }

    @Override
    public long generation() {
        return engine.generation();
    }

    /**
     * The controller a pod most likely belongs to, from the naming conventions of Kubernetes controllers: a
     * {@code pod-template-hash} label and a name {@code <deployment>-<hash>-<suffix>} means a Deployment; a
     * {@code statefulset.kubernetes.io/pod-name} label and a name {@code <set>-<ordinal>} a StatefulSet; an
     * {@code app.kubernetes.io/name} or {@code app} label otherwise names the workload without a known kind.
     */
    static List<Workload> workloads(String podName, Map<String, String> labels) {
        String hash = labels.get("pod-template-hash");
        if (hash != null) {
            int i = podName.lastIndexOf("-" + hash + "-");
            if (i > 0) return List.of(new Workload(podName.substring(0, i), "Deployment"));
        }
        if (labels.containsKey("statefulset.kubernetes.io/pod-name")) {
            int i = podName.lastIndexOf('-');
            if (i > 0) return List.of(new Workload(podName.substring(0, i), "StatefulSet"));
        }
        return List.of();
    }
}
