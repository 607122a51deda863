package dev.sieve.policy.l7;

import java.util.regex.Pattern;

/** A DNS rule (and the matcher of a toFQDNs entry): exactly one of matchName / matchPattern. */
public record DnsRule(String matchName, String matchPattern, Pattern compiled) {

    public static DnsRule name(String n) {
        return new DnsRule(n, null, null);
    }

    public static DnsRule pattern(String p) {
        return new DnsRule(null, p, DnsNames.compilePattern(p));
    }

    public boolean matches(String query) {
        if (matchName != null) return DnsNames.matchesName(matchName, query);
        return compiled.matcher(DnsNames.normalize(query)).matches();
    }

    @Override
    public String toString() {
        return matchName != null ? "dns matchName=" + matchName : "dns matchPattern=" + matchPattern;
    }
}
