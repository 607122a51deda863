package dev.sieve.policy.model;

/** The three kinds of policy objects Sieve reads. */
public enum PolicyKind {
    CILIUM_NETWORK_POLICY("CiliumNetworkPolicy", "cilium.io/v2", true),
    CILIUM_CLUSTERWIDE_NETWORK_POLICY("CiliumClusterwideNetworkPolicy", "cilium.io/v2", false),
    NETWORK_POLICY("NetworkPolicy", "networking.k8s.io/v1", true);

    public final String kind;
    public final String apiVersion;
    public final boolean namespaced;

    PolicyKind(String kind, String apiVersion, boolean namespaced) {
        this.kind = kind;
        this.apiVersion = apiVersion;
        this.namespaced = namespaced;
    }

    public static PolicyKind byKind(String kind) {
        for (PolicyKind k : values()) if (k.kind.equals(kind)) return k;
        return null;
    }
}
