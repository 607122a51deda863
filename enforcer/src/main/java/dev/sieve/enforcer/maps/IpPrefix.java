package dev.sieve.enforcer.maps;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** An IPv4 or IPv6 prefix in canonical form (host bits zero), e.g. 10.0.0.0/8, fd00::/64, 10.1.2.3/32. */
public record IpPrefix(InetAddress address, int length) {
    public IpPrefix {
        int max = address instanceof Inet4Address ? 32 : 128;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length " + length + " out of 0.." + max + " for " + address.getHostAddress());
        }
        address = mask(address, length);
    }

    /** Parses "addr/len" or a bare address (a host prefix). Only literals, never DNS. */
    public static IpPrefix parse(String text) {
        String s = text.strip();
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        InetAddress a = literal(addr, text);
        int len;
        if (slash < 0) {
            len = a instanceof Inet4Address ? 32 : 128;
        } else {
            try {
                len = Integer.parseInt(s.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad prefix length in '" + text + "'");
            }
        }
        return new IpPrefix(a, len);
    }

    /** Parses an IP literal; never resolves names. */
    public static InetAddress literal(String addr, String context) {
        boolean looksLiteral = addr.contains(":") || !addr.isEmpty() && addr.chars().allMatch(c -> c >= '0' && c <= '9' || c == '.');
        if (!looksLiteral || addr.isEmpty()) {
            throw new IllegalArgumentException("not an IP address: '" + context + "'");
        }
        try {
            return InetAddress.getByName(addr);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: '" + context + "'", e);
        }
    }

    /** 4 or 6. */
    public int family() {
        return address instanceof Inet4Address ? 4 : 6;
    }

    /** Writes struct ipcache_key. */
    public void writeIpcacheKey(MemorySegment seg) {
        seg.fill((byte) 0);
        seg.set(ValueLayout.JAVA_INT, 0, 32 + length);
        seg.set(ValueLayout.JAVA_INT, 4, family());
        byte[] b = address.getAddress();
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 8, b.length);
    }

    /** Reads struct ipcache_key. */
    public static IpPrefix readIpcacheKey(MemorySegment seg) {
        int plen = seg.get(ValueLayout.JAVA_INT, 0) - 32;
        int family = seg.get(ValueLayout.JAVA_INT, 4);
        byte[] b = new byte[family == 4 ? 4 : 16];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 8, b, 0, b.length);
        try {
            return new IpPrefix(InetAddress.getByAddress(b), plen);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InetAddress mask(InetAddress a, int len) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, len - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        if (Arrays.equals(b, a.getAddress())) {
            return a;
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + length;
    }
}
