package dev.sieve.policy.model;

/** Identifies one policy object: kind, namespace (empty for cluster-wide) and name. */
public record PolicyKey(PolicyKind kind, String namespace, String name) implements Comparable<PolicyKey> {

    /** How flows and the CLI name the policy, e.g. {@code production/allow-frontend-to-backend}. */
    public String displayName() {
        return namespace.isEmpty() ? name : namespace + "/" + name;
    }

    @Override
    public int compareTo(PolicyKey o) {
        int c = namespace.compareTo(o.namespace);
        if (c != 0) return c;
        c = name.compareTo(o.name);
        return c != 0 ? c : kind.compareTo(o.kind);
    }

    @Override
    public String toString() {
        return kind.kind + " " + displayName();
    }
}
