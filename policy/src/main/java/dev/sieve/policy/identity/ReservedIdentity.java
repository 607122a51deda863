package dev.sieve.policy.identity;

import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSet;

/** Cilium's reserved identities, with Cilium's numbers, so flows and maps read the same as there. */
public enum ReservedIdentity {
    UNKNOWN(0, "unknown"),
    HOST(1, "host"),
    WORLD(2, "world"),
    UNMANAGED(3, "unmanaged"),
    HEALTH(4, "health"),
    INIT(5, "init"),
    REMOTE_NODE(6, "remote-node"),
    KUBE_APISERVER(7, "kube-apiserver"),
    INGRESS(8, "ingress"),
    WORLD_IPV4(9, "world-ipv4"),
    WORLD_IPV6(10, "world-ipv6");

    public final int id;
    public final String label;

    ReservedIdentity(int id, String label) {
        this.id = id;
        this.label = label;
    }

    public LabelSet labels() {
        return switch (this) {
            // world-ipv4/6 also carry reserved:world so that a "world" selector covers both families
            case WORLD_IPV4, WORLD_IPV6 -> LabelSet.of(Label.reserved(label), Label.reserved("world"));
            default -> LabelSet.of(Label.reserved(label));
        };
    }

    public Identity identity() {
        return new Identity(id, labels());
    }

    public static ReservedIdentity byId(int id) {
        for (ReservedIdentity r : values()) if (r.id == id) return r;
        return null;
    }

    public static ReservedIdentity byName(String name) {
        for (ReservedIdentity r : values()) if (r.label.equals(name)) return r;
        return null;
    }

    /** First identity number handed to workloads of the cluster, as in Cilium. */
    public static final int MIN_CLUSTER_IDENTITY = 256;
    /** Identities of CIDR and FQDN peers are node-local, with this bit set (Cilium's local scope). */
    public static final int LOCAL_IDENTITY_FLAG = 1 << 24;
}
