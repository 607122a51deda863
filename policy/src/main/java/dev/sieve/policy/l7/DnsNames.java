package dev.sieve.policy.l7;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * DNS name matching with Cilium's rules: names compare case-insensitively and without the trailing dot;
 * in a pattern, {@code *} alone matches every name, {@code *} elsewhere matches characters of one label
 * ({@code [-a-zA-Z0-9_]*}), and a leading {@code **.} matches one or more labels.
 */
public final class DnsNames {

    public static final Pattern NAME = Pattern.compile("[-a-zA-Z0-9_]+(\\.[-a-zA-Z0-9_]+)*\\.?");
    public static final Pattern PATTERN = Pattern.compile("[-a-zA-Z0-9_*]+(\\.[-a-zA-Z0-9_*]+)*\\.?|\\*");

    private DnsNames() {}

    public static String normalize(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }

    public static Pattern compilePattern(String pattern) {
        String p = normalize(pattern);
        if (p.equals("*")) return Pattern.compile(".*");
        StringBuilder re = new StringBuilder();
        if (p.startsWith("**.")) {
            re.append("(?:[-a-z0-9_]+\\.)+");
            p = p.substring(3);
        }
        for (char c : p.toCharArray()) {
            switch (c) {
                case '*' -> re.append("[-a-z0-9_]*");
                case '.' -> re.append("\\.");
                default -> re.append(c);
            }
        }
        return Pattern.compile(re.toString());
    }

    public static boolean matchesName(String matchName, String query) {
        return normalize(matchName).equals(normalize(query));
    }
}
