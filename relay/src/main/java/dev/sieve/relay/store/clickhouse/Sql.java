package dev.sieve.relay.store.clickhouse;

import java.util.Collection;
import java.util.stream.Collectors;

/**
 * SQL literals from untrusted values. ClickHouse 18.16 has no server-side query parameters over
 * HTTP, so every user value goes through these escapers; numbers are formatted from Java numbers.
 */
public final class Sql {
    private Sql() {}

    /** A single-quoted string literal; backslash, quote and control characters escaped. */
    public static String str(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('\'');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\'' -> b.append("\\'");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\0' -> b.append("\\0");
                default -> {
                    if (c < 0x20) b.append(String.format("\\x%02x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('\'').toString();
    }

    /** A LIKE pattern matching values that start with {@code prefix}. */
    public static String likePrefix(String prefix) {
        return str(likeEscape(prefix) + "%");
    }


    static String likeEscape(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    public static String strList(Collection<String> values) {
        return values.stream().map(Sql::str).collect(Collectors.joining(", ", "(", ")"));
    }

    public static String numList(long[] values) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < values.length; i++) b.append(i == 0 ? "" : ", ").append(values[i]);
        return b.append(')').toString();
    }

    /** A database or cluster name: letters, digits, underscore; anything else is refused. */
    public static String ident(String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,63}"))
            throw new IllegalArgumentException("invalid ClickHouse identifier " + str(name) + " (letters, digits, _)");
        return "`" + name + "`";
    }
}
