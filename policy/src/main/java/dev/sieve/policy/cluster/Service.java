package dev.sieve.policy.cluster;

import dev.sieve.policy.model.SourceRef;
import java.util.List;
import java.util.Map;

/** A Kubernetes Service. {@code selector} is null for a service without a selector. */
public record Service(String namespace, String name, Map<String, String> labels, Map<String, String> selector,
                      List<String> clusterIPs, List<ServicePort> ports, SourceRef source) {

    public String key() {
        return namespace + "/" + name;
    }
}
