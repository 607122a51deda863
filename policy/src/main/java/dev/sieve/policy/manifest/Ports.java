package dev.sieve.policy.manifest;

import dev.sieve.policy.model.Protocol;
import java.util.regex.Pattern;

/** Port and protocol fields as Kubernetes and Cilium write them. */
final class Ports {

    /** IANA service names, as Kubernetes validates named ports. */
    private static final Pattern PORT_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?");

    private Ports() {}

    /** A port number field, written as a number or a quoted number; -1 after reporting a problem. */
    static int parseNumber(YamlValue v, int min) {
        String s = v.string();
        if (s == null) {
            v.error("expected a port number");
            return -1;
        }
        if (!s.matches("\\d{1,9}")) {
            v.error("invalid port \"" + s + "\": expected a number");
            return -1;
        }
        int n = Integer.parseInt(s);
        if (n < min || n > 65535) {
            v.error("port " + n + " is out of range " + min + "-65535");
            return -1;
        }
        return n;
    }

    static boolean isNumber(String s) {
        return s.matches("\\d+");
    }

    /** A named port: reports a name that Kubernetes would not accept. */
    static boolean checkName(YamlValue v, String name) {
        if (!PORT_NAME.matcher(name).matches() || !name.matches(".*[a-z].*")) {
            v.error("invalid port \"" + name + "\": expected a number 0-65535 or a port name (lowercase letters, digits and '-', at most 15 characters)");
            return false;
        }
        return true;
    }

    /** TCP, UDP, SCTP, and ANY where {@code allowAny}; null after reporting a problem. */
    static Protocol parseProtocol(YamlValue v, boolean allowAny) {
        String s = v.string();
        Protocol p = s == null ? null : Protocol.parse(s);
        if (p == null || p == Protocol.ICMP || p == Protocol.ICMPV6 || (p == Protocol.ANY && !allowAny)) {
            v.error("unknown protocol \"" + s + "\" (expected TCP, UDP, SCTP" + (allowAny ? " or ANY" : "") + ")");
            return null;
        }
        return p;
    }
}
