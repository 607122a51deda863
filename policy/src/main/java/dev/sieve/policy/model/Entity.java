package dev.sieve.policy.model;

/** Named groups of peers (Cilium's entities). {@code cluster} and {@code all} expand to several selectors. */
public enum Entity {
    ALL("all"), WORLD("world"), WORLD_IPV4("world-ipv4"), WORLD_IPV6("world-ipv6"), CLUSTER("cluster"),
    HOST("host"), REMOTE_NODE("remote-node"), KUBE_APISERVER("kube-apiserver"), INGRESS("ingress"),
    INIT("init"), HEALTH("health"), UNMANAGED("unmanaged");

    public final String yamlName;

    Entity(String yamlName) {
        this.yamlName = yamlName;
    }

    public static Entity parse(String s) {
        for (Entity e : values()) if (e.yamlName.equals(s)) return e;
        return null;
    }
}
