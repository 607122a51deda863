package dev.sieve.policy.labels;

import java.util.List;

/** One term of a label selector, with Kubernetes' semantics (NotIn and DoesNotExist match an absent key). */
public record Requirement(String source, String key, Operator operator, List<String> values)
        implements Comparable<Requirement> {

    public enum Operator {
        IN("In"), NOT_IN("NotIn"), EXISTS("Exists"), DOES_NOT_EXIST("DoesNotExist");

        public final String k8sName;

        Operator(String k8sName) {
            this.k8sName = k8sName;
        }

        public static Operator fromK8s(String name) {
            for (Operator o : values()) if (o.k8sName.equals(name)) return o;
            return null;
        }
    }

    public Requirement {
        values = values == null ? List.of() : values.stream().sorted().distinct().toList();
    }

    /** Builds a requirement from a selector key that may carry a source prefix ({@code k8s:app}). */
    public static Requirement of(String rawKey, Operator op, List<String> values) {
        Label l = Label.parseKey(rawKey, "");
        return new Requirement(l.source(), l.key(), op, values);
    }

    public boolean matches(LabelSet labels) {
        String v = labels.get(source, key);
        return switch (operator) {
            case IN -> v != null && values.contains(v);
            case NOT_IN -> v == null || !values.contains(v);
            case EXISTS -> v != null;
            case DOES_NOT_EXIST -> v == null;
        };
    }

    @Override
    public int compareTo(Requirement o) {
        int c = key.compareTo(o.key);
        if (c != 0) return c;
        c = source.compareTo(o.source);
        if (c != 0) return c;
        c = operator.compareTo(o.operator);
        if (c != 0) return c;
        return values.toString().compareTo(o.values.toString());
    }

    @Override
    public String toString() {
        String k = source.equals(Label.SOURCE_ANY) ? key : source + ":" + key;
        return switch (operator) {
            case IN -> values.size() == 1 ? k + "=" + values.getFirst() : k + " in (" + String.join(",", values) + ")";
            case NOT_IN -> k + " notin (" + String.join(",", values) + ")";
            case EXISTS -> k;
            case DOES_NOT_EXIST -> "!" + k;
        };
    }
}
