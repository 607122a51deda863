package dev.sieve.flowfilter;

import java.util.List;

/**
 * A pod or service filter value, {@code [namespace/][name-prefix]}, with Hubble's semantics
 * ({@code pkg/hubble/k8s.ParseNamespaceName}): {@code "ns/"} selects every name in ns, {@code "ns/prefix"} the names
 * starting with prefix in ns, and a value without '/' names a prefix in the {@code default} namespace. The
 * namespace always has to equal the flow's; a flow side with neither namespace nor name never matches.
 */
public record NamespacedName(String namespace, String prefix) {

    public static NamespacedName parse(String field, String value) {
        int slash = value.indexOf('/');
        if (slash < 0) {
            if (value.isEmpty()) throw new InvalidFilterException(field, value, "must be [namespace/][<name>]");
            return new NamespacedName("default", value);
        }
        String ns = value.substring(0, slash);
        String rest = value.substring(slash + 1);
        int next = rest.indexOf('/');
        String prefix = next < 0 ? rest : rest.substring(0, next); // Go's strings.Split: what follows a second '/' is ignored
        if (ns.isEmpty() && prefix.isEmpty()) throw new InvalidFilterException(field, value, "must be [namespace/][<name>]");
        return new NamespacedName(ns, prefix);
    }

    static NamespacedName[] parseAll(String field, List<String> values) {
        return values.stream().map(v -> parse(field, v)).toArray(NamespacedName[]::new);
    }

    /** Whether this value selects (namespace, name) of a flow's side. */
    public boolean matches(String flowNamespace, String flowName) {
        if (flowNamespace.isEmpty() && flowName.isEmpty()) return false;
        return namespace.equals(flowNamespace) && flowName.startsWith(prefix);
    }

    static boolean anyMatches(NamespacedName[] values, String flowNamespace, String flowName) {
        for (NamespacedName n : values) {
            if (n.matches(flowNamespace, flowName)) return true;
        }
        return false;
    }
}
