package dev.sieve.policy.l7;

import java.util.List;

/** The L7 rules of one toPorts entry. Only one protocol's list is set in a valid policy. */
public record L7Rules(List<HttpRule> http, List<KafkaRule> kafka, List<DnsRule> dns) {

    public static final L7Rules NONE = new L7Rules(List.of(), List.of(), List.of());

    public boolean isEmpty() {
        return http.isEmpty() && kafka.isEmpty() && dns.isEmpty();
    }

    public L7Protocol protocol() {
        if (!http.isEmpty()) return L7Protocol.HTTP;
        if (!kafka.isEmpty()) return L7Protocol.KAFKA;
        if (!dns.isEmpty()) return L7Protocol.DNS;
        return null;
    }

    public enum L7Protocol { HTTP, KAFKA, DNS }
}
