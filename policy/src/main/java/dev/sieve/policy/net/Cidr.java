package dev.sieve.policy.net;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** An IPv4 or IPv6 prefix in canonical form (host bits cleared). */
public record Cidr(byte[] address, int bits) implements Comparable<Cidr> {

    public Cidr {
        address = address.clone();
        int total = address.length * 8;
        if (bits < 0 || bits > total) throw new IllegalArgumentException("prefix length " + bits + " out of range 0-" + total);
        for (int i = 0; i < address.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            address[i] &= (byte) (0xff << (8 - keep));
        }
    }

    /** Parses {@code 10.0.0.0/8}, {@code 2001:db8::/32}, or a bare address (a /32 or /128). */
    public static Cidr parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        byte[] bytes = parseAddress(addr);
        int bits = bytes.length * 8;
        if (slash >= 0) {
            String len = s.substring(slash + 1);
            if (!len.matches("\\d{1,3}")) throw new IllegalArgumentException("invalid prefix length '" + len + "' in '" + text + "'");
            bits = Integer.parseInt(len);
            if (bits > bytes.length * 8) {
                throw new IllegalArgumentException("prefix length /" + bits + " too long for " + (bytes.length == 4 ? "IPv4" : "IPv6") + " in '" + text + "'");
            }
        }
        return new Cidr(bytes, bits);
    }

    /** Parses a literal IPv4 or IPv6 address; never resolves names. */
    /** 1 to {@code max} ASCII digits (what {@code \\d{1,max}} matched, without compiling a regex per call). */
    private static boolean digits(String s, int max) {
        if (s.isEmpty() || s.length() > max) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    /** Only {@code [0-9a-fA-F:.]}, at least one. */
    private static boolean ipv6Chars(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.')) return false;
        }
        return true;
    }

    public static byte[] parseAddress(String addr) {
        if (addr.isEmpty()) throw new IllegalArgumentException("empty address");
        if (addr.indexOf(':') < 0) {
            String[] parts = addr.split("\\.", -1);
            if (parts.length != 4) throw new IllegalArgumentException("invalid IPv4 address '" + addr + "'");
            byte[] out = new byte[4];
            for (int i = 0; i < 4; i++) {
                if (!digits(parts[i], 3)) throw new IllegalArgumentException("invalid IPv4 address '" + addr + "'");
                int v = Integer.parseInt(parts[i]);
                if (v > 255) throw new IllegalArgumentException("invalid IPv4 address '" + addr + "'");
                out[i] = (byte) v;
            }
            return out;
        }
        if (!ipv6Chars(addr)) throw new IllegalArgumentException("invalid IPv6 address '" + addr + "'");
        try {
            byte[] b = InetAddress.getByName(addr).getAddress();
            if (b.length == 4) { // IPv4-mapped form, keep it as IPv6
                byte[] m = new byte[16];
                m[10] = (byte) 0xff;
                m[11] = (byte) 0xff;
                System.arraycopy(b, 0, m, 12, 4);
                return m;
            }
            return b;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("invalid IPv6 address '" + addr + "'");
        }
    }

    public static Cidr host(byte[] address) {
        return new Cidr(address, address.length * 8);
    }

    public boolean isIpv4() {
        return address.length == 4;
    }

    public boolean contains(byte[] ip) {
        if (ip.length != address.length) return false;
        int full = bits / 8;
        for (int i = 0; i < full; i++) if (ip[i] != address[i]) return false;
        int rest = bits % 8;
        if (rest == 0) return true;
        int mask = 0xff << (8 - rest) & 0xff;
        return (ip[full] & mask) == (address[full] & 0xff);
    }

    public boolean contains(Cidr other) {
        return other.address.length == address.length && other.bits >= bits && contains(other.address);
    }

    /** The enclosing prefix one bit shorter. */
    public Cidr parent() {
        return new Cidr(address, bits - 1);
    }

    public String addressString() {
        return formatAddress(address);
    }

    public static String formatAddress(byte[] a) {
        if (a.length == 4) return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + "." + (a[3] & 0xff);
        try {
            // compact form, e.g. fd00::1
            String s = InetAddress.getByAddress(a).getHostAddress();
            return compressIpv6(s);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String compressIpv6(String full) {
        String[] groups = full.split(":");
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < groups.length; ) {
            if (groups[i].equals("0")) {
                int j = i;
                while (j < groups.length && groups[j].equals("0")) j++;
                if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) return full;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < bestStart; i++) sb.append(i > 0 ? ":" : "").append(groups[i]);
        sb.append("::");
        for (int i = bestStart + bestLen; i < groups.length; i++) sb.append(groups[i]).append(i < groups.length - 1 ? ":" : "");
        return sb.toString();
    }

    public BigInteger asBigInteger() {
        return new BigInteger(1, address);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.bits == bits && Arrays.equals(c.address, address);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(address) * 31 + bits;
    }

    @Override
    public int compareTo(Cidr o) {
        if (address.length != o.address.length) return Integer.compare(address.length, o.address.length);
        int c = Arrays.compareUnsigned(address, o.address);
        return c != 0 ? c : Integer.compare(bits, o.bits);
    }

    @Override
    public String toString() {
        return addressString() + "/" + bits;
    }
}
