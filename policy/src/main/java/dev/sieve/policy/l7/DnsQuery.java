package dev.sieve.policy.l7;

/** A DNS question as the DNS proxy sees it: the queried name (with or without the trailing dot). */
public record DnsQuery(String name) implements L7Request {

    @Override
    public DnsRule firstMatch(L7Rules rules) {
        for (DnsRule r : rules.dns()) if (r.matches(name)) return r;
        return null;
    }

    @Override
    public String describe() {
        return "DNS query " + name;
    }
}
