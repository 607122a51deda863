package dev.sieve.flowfilter;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address or a CIDR, parsed without DNS lookups, matched against an address string of a flow. */
final class IpMatcher {

    private final byte[] prefix;
    private final int bits;
    private final String exact;

    private IpMatcher(byte[] prefix, int bits, String exact) {
        this.prefix = prefix;
        this.bits = bits;
        this.exact = exact;
    }

    static IpMatcher parse(String field, String value) {
        String v = value.trim();
        int slash = v.indexOf('/');
        String addr = slash < 0 ? v : v.substring(0, slash);
        byte[] bytes = literal(addr);
        if (bytes == null) throw new InvalidFilterException(field, value, slash < 0 ? "not an IP address" : "not a CIDR");
        int bits = bytes.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(v.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new InvalidFilterException(field, value, "not a CIDR: bad prefix length");
            }
            if (bits < 0 || bits > bytes.length * 8) {
                throw new InvalidFilterException(field, value, "not a CIDR: prefix length must be within 0-" + bytes.length * 8);
            }
        }
        String exact = slash < 0 ? addr : null; // fast path for the same spelling; other spellings compare bytes
        return new IpMatcher(bytes, bits, exact);
    }

    boolean matches(String ip) {
        if (exact != null) {
            if (exact.equals(ip)) return true;
        }
        byte[] b = literal(ip);
        if (b == null || b.length != prefix.length) return false;
        int full = bits / 8;
        for (int i = 0; i < full; i++) if (b[i] != prefix[i]) return false;
        int rem = bits % 8;
        if (rem == 0) return true;
        int mask = (0xff << (8 - rem)) & 0xff;
        return (b[full] & mask) == (prefix[full] & mask);
    }

    /** Parses an IPv4 dotted quad or an IPv6 literal without touching DNS; null if it is neither. */
    static byte[] literal(String s) {
        if (s.isEmpty()) return null;
        if (s.indexOf(':') < 0) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) return null;
            byte[] out = new byte[4];
            for (int i = 0; i < 4; i++) {
                String p = parts[i];
                if (p.isEmpty() || p.length() > 3) return null;
                int n = 0;
                for (int k = 0; k < p.length(); k++) {
                    char c = p.charAt(k);
                    if (c < '0' || c > '9') return null;
                    n = n * 10 + (c - '0');
                }
                if (n > 255) return null;
                out[i] = (byte) n;
            }
            return out;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) return null;
        }
        try {
            return InetAddress.getByName(s).getAddress(); // a literal: no lookup
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
