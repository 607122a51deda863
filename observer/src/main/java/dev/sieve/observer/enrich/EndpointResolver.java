package dev.sieve.observer.enrich;

import dev.sieve.api.flow.Policy;
import java.util.List;

/**
 * What the enricher needs to know about the cluster: the labels of a security identity, the pod behind an
 * address, and the policy behind a datapath rule id. The policy engine adapter (the agent's {@code PolicyEngineResolver})
 * and tests implement it. Implementations must be safe to call from the enricher's thread.
 */
public interface EndpointResolver {

    /** Labels of identity {@code id} as {@code source:key=value} strings (e.g. {@code k8s:app=web}); empty if unknown. */
    List<String> identityLabels(int id);

    /** The pod that owns {@code address} (4 or 16 bytes), or null for addresses outside the cluster's pods. */
    PodRef podByAddress(byte[] address);

    /** The security identity of {@code address} (4 or 16 bytes) as the ipcache has it; 0 when not known. */
    default int identityOf(byte[] address) {
        return 0;
    }

    /** The policy that rule {@code ruleId} belongs to, or null when the id is 0 or unknown. */
    PolicyRef rule(int ruleId);

    /**
     * A number that changes whenever any answer above may have changed; the enricher drops its caches when it
     * sees a new value. Resolvers whose answers never change return a constant.
     */
    long generation();

    /** A pod as flows show it. {@code workloads} are {@code (name, kind)} pairs, possibly empty. */
    record PodRef(String namespace, String name, List<Workload> workloads) {
        public PodRef {
            workloads = List.copyOf(workloads);
        }
    }

    /** A controller that owns a pod, e.g. {@code (frontend, Deployment)}. */
    record Workload(String name, String kind) {}

    /**
     * The policy a rule belongs to: kind ({@code CiliumNetworkPolicy}, ...), namespace (empty when
     * cluster-wide), name, labels (Cilium's derived policy labels), revision, and whether the rule denies.
     */
    record PolicyRef(String kind, String namespace, String name, List<String> labels, long revision, boolean deny) {
        public PolicyRef {
            labels = List.copyOf(labels);
        }

        /** The flow.Policy message for this policy. */
        public Policy toProto() {
            return Policy.newBuilder().setName(name).setNamespace(namespace).addAllLabels(labels)
                    .setRevision(revision).setKind(kind).build();
        }
    }
}
