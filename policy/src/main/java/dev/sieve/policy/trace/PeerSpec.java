package dev.sieve.policy.trace;

/**
 * How the CLI names a peer: {@code NAMESPACE/POD}, {@code ip:ADDRESS}, {@code entity:NAME}, or
 * {@code fqdn:NAME=ADDRESS} (an address DNS returned for NAME).
 */
public record PeerSpec(Kind kind, String namespace, String name, String address) {

    public enum Kind { POD, IP, ENTITY, FQDN }

    public static PeerSpec parse(String s) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException("empty peer: expected NAMESPACE/POD, ip:ADDRESS, entity:NAME or fqdn:NAME=ADDRESS");
        if (s.startsWith("ip:")) {
            String a = s.substring(3);
            if (a.isEmpty()) throw new IllegalArgumentException("peer \"" + s + "\": missing address after ip:");
            return new PeerSpec(Kind.IP, null, null, a);
        }
        if (s.startsWith("entity:")) {
            String n = s.substring(7);
            if (n.isEmpty()) throw new IllegalArgumentException("peer \"" + s + "\": missing entity name after entity:");
            return new PeerSpec(Kind.ENTITY, null, n, null);
        }
        if (s.startsWith("fqdn:")) {
            String rest = s.substring(5);
            int eq = rest.indexOf('=');
            if (eq <= 0 || eq == rest.length() - 1) throw new IllegalArgumentException("peer \"" + s + "\": expected fqdn:NAME=ADDRESS");
            return new PeerSpec(Kind.FQDN, null, rest.substring(0, eq), rest.substring(eq + 1));
        }
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1 || s.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("peer \"" + s + "\": expected NAMESPACE/POD, ip:ADDRESS, entity:NAME or fqdn:NAME=ADDRESS");
        }
        return new PeerSpec(Kind.POD, s.substring(0, slash), s.substring(slash + 1), null);
    }
}
