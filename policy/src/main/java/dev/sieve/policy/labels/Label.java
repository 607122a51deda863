package dev.sieve.policy.labels;

import java.util.Objects;

/**
 * One label: a source (where it comes from: {@code k8s}, {@code reserved}, {@code cidr}, {@code fqdn},
 * or {@code any} in selectors), a key and a value. Written as {@code source:key=value}.
 */
public record Label(String source, String key, String value) implements Comparable<Label> {

    public static final String SOURCE_ANY = "any";
    public static final String SOURCE_K8S = "k8s";
    public static final String SOURCE_RESERVED = "reserved";
    public static final String SOURCE_CIDR = "cidr";
    public static final String SOURCE_FQDN = "fqdn";
    public static final String SOURCE_UNSPEC = "unspec";

    public Label {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(key, "key");
        value = value == null ? "" : value;
    }

    public static Label k8s(String key, String value) {
        return new Label(SOURCE_K8S, key, value);
    }

    public static Label reserved(String name) {
        return new Label(SOURCE_RESERVED, name, "");
    }

    /**
     * Splits a selector or label key such as {@code k8s:app} or {@code reserved:host} into source and key.
     * A key without a known source prefix has the source {@code any}. Only the first colon splits, so
     * {@code cidr:2001:db8::/32} keeps its IPv6 key.
     */
    public static Label parseKey(String rawKey, String value) {
        int colon = rawKey.indexOf(':');
        if (colon > 0) {
            String source = rawKey.substring(0, colon);
            if (isKnownSource(source)) {
                return new Label(source, rawKey.substring(colon + 1), value);
            }
        }
        return new Label(SOURCE_ANY, rawKey, value);
    }

    public static boolean isKnownSource(String source) {
        return switch (source) {
            case SOURCE_ANY, SOURCE_K8S, SOURCE_RESERVED, SOURCE_CIDR, SOURCE_FQDN, SOURCE_UNSPEC,
                 "container", "cilium-generated" -> true;
            default -> false;
        };
    }

    /** Does a selector key with this label's source accept a label of {@code otherSource}? */
    public boolean sourceAccepts(String otherSource) {
        return source.equals(SOURCE_ANY) || source.equals(otherSource);
    }

    @Override
    public int compareTo(Label o) {
        int c = key.compareTo(o.key);
        if (c != 0) return c;
        c = source.compareTo(o.source);
        if (c != 0) return c;
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value.isEmpty() ? source + ":" + key : source + ":" + key + "=" + value;
    }
}
