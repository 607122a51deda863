package dev.sieve.policy.cluster;

import dev.sieve.policy.model.SourceRef;
import java.util.List;
import java.util.Map;

/** A Kubernetes Pod: an endpoint of the cluster. {@code ips} holds status.podIP/podIPs. */
public record Pod(String namespace, String name, Map<String, String> labels, Map<String, String> annotations,
                  List<String> ips, String nodeName, String serviceAccount, List<ContainerPort> ports, SourceRef source) {

    public String key() {
        return namespace + "/" + name;
    }

    public boolean auditMode() {
        return "true".equalsIgnoreCase(annotations.getOrDefault(Namespace.AUDIT_ANNOTATION, ""));
    }
}
