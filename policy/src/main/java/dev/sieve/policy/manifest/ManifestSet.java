package dev.sieve.policy.manifest;

import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.cluster.Node;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.cluster.Service;
import dev.sieve.policy.model.Policy;
import java.util.ArrayList;
import java.util.List;

/** Everything read from a set of manifest files: policies and the cluster objects they apply to. */
public record ManifestSet(List<Policy> policies, List<Namespace> namespaces, List<Pod> pods, List<Service> services,
                          List<Node> nodes, List<String> apiServerIps) {

    public static ManifestSet empty() {
        return new ManifestSet(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                new ArrayList<>(), new ArrayList<>());
    }

    public int objectCount() {
        return policies.size() + namespaces.size() + pods.size() + services.size() + nodes.size();
    }
}
