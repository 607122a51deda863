package dev.sieve.flowfilter;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A Kubernetes label selector string ({@code app=web,tier!=db,env in (a,b),!legacy,version}) matched
 * against Cilium label strings ({@code source:key=value}). A selector key may name a source
 * ({@code k8s:app=web}); without one ({@code app=web}) it matches labels of any source, as Cilium's
 * {@code any:} source does. Operators: {@code =}, {@code ==}, {@code !=}, {@code in}, {@code notin}, exists
 * ({@code key}), does not exist ({@code !key}), {@code >} and {@code <} (integer values).
 */
public final class LabelSelectorExpr {

    enum Op { EQ, NEQ, IN, NOTIN, EXISTS, NOT_EXISTS, GT, LT }

    record Requirement(String source, String key, Op op, Set<String> values, long number) {}

    private final List<Requirement> requirements;

    private LabelSelectorExpr(List<Requirement> requirements) {
        this.requirements = requirements;
    }

    /** Parses a selector; {@code field} names the filter field in error messages. */
    public static LabelSelectorExpr parse(String field, String text) {
        String s = text.trim();
        if (s.isEmpty()) throw new InvalidFilterException(field, text, "empty label selector");
        List<Requirement> reqs = new ArrayList<>();
        for (String part : splitTopLevel(field, text, s)) reqs.add(requirement(field, text, part.trim()));
        return new LabelSelectorExpr(List.copyOf(reqs));
    }

    private static List<String> splitTopLevel(String field, String text, String s) {
        List<String> parts = new ArrayList<>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                if (++depth > 1) throw new InvalidFilterException(field, text, "nested '('");
            } else if (c == ')') {
                if (--depth < 0) throw new InvalidFilterException(field, text, "unexpected ')'");
            } else if (c == ',' && depth == 0) {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        if (depth != 0) throw new InvalidFilterException(field, text, "missing ')'");
        parts.add(s.substring(start));
        return parts;
    }

    private static Requirement requirement(String field, String text, String p) {
        if (p.isEmpty()) throw new InvalidFilterException(field, text, "empty requirement");
        if (p.startsWith("!")) {
            String k = p.substring(1).trim();
            checkKey(field, text, k);
            return req(k, Op.NOT_EXISTS, Set.of(), 0);
        }
        int i = 0;
        while (i < p.length() && "=!<> \t(".indexOf(p.charAt(i)) < 0) i++;
        String key = p.substring(0, i);
        checkKey(field, text, key);
        String rest = p.substring(i).trim();
        if (rest.isEmpty()) return req(key, Op.EXISTS, Set.of(), 0);
        if (rest.startsWith("==")) return req(key, Op.EQ, Set.of(value(field, text, rest.substring(2))), 0);
        if (rest.startsWith("!=")) return req(key, Op.NEQ, Set.of(value(field, text, rest.substring(2))), 0);
        if (rest.startsWith("=")) return req(key, Op.EQ, Set.of(value(field, text, rest.substring(1))), 0);
        if (rest.startsWith(">") || rest.startsWith("<")) {
            String v = rest.substring(1).trim();
            try {
                return req(key, rest.charAt(0) == '>' ? Op.GT : Op.LT, Set.of(), Long.parseLong(v));
            } catch (NumberFormatException e) {
                throw new InvalidFilterException(field, text, "'" + rest.charAt(0) + "' needs an integer, got \"" + v + "\"");
            }
        }
        String lower = rest.toLowerCase(java.util.Locale.ROOT);
        Op op;
        String list;
        if (lower.startsWith("notin")) {
            op = Op.NOTIN;
            list = rest.substring(5).trim();
        } else if (lower.startsWith("in")) {
            op = Op.IN;
            list = rest.substring(2).trim();
        } else {
            throw new InvalidFilterException(field, text, "unknown operator in \"" + p + "\"");
        }
        if (!list.startsWith("(") || !list.endsWith(")")) {
            throw new InvalidFilterException(field, text, "'" + (op == Op.IN ? "in" : "notin") + "' needs a list in parentheses");
        }
        List<String> values = new ArrayList<>();
        for (String v : list.substring(1, list.length() - 1).split(",", -1)) values.add(value(field, text, v));
        if (values.isEmpty()) throw new InvalidFilterException(field, text, "empty value list");
        return req(key, op, Set.copyOf(values), 0);
    }

    private static String value(String field, String text, String v) {
        String t = v.trim();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':')) {
                throw new InvalidFilterException(field, text, "invalid character '" + c + "' in value \"" + t + "\"");
            }
        }
        return t;
    }

    private static void checkKey(String field, String text, String key) {
        if (key.isEmpty()) throw new InvalidFilterException(field, text, "missing label key");
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == ':')) {
                throw new InvalidFilterException(field, text, "invalid character '" + c + "' in key \"" + key + "\"");
            }
        }
    }

    private static Requirement req(String rawKey, Op op, Set<String> values, long number) {
        int colon = rawKey.indexOf(':');
        String source = colon > 0 ? rawKey.substring(0, colon) : "any";
        String key = colon > 0 ? rawKey.substring(colon + 1) : rawKey;
        return new Requirement(source, key, op, values, number);
    }

    /** Whether labels ({@code source:key=value} strings) satisfy every requirement. */
    public boolean matches(List<String> labels) {
        for (Requirement r : requirements) {
            if (!matches(r, labels)) return false;
        }
        return true;
    }

    private static boolean matches(Requirement r, List<String> labels) {
        String value = null;
        boolean found = false;
        for (int i = 0, n = labels.size(); i < n; i++) {
            String l = labels.get(i);
            int colon = l.indexOf(':');
            int keyStart = colon + 1;
            int eq = l.indexOf('=', keyStart);
            int keyEnd = eq < 0 ? l.length() : eq;
            if (keyEnd - keyStart != r.key.length() || !l.regionMatches(keyStart, r.key, 0, r.key.length())) continue;
            if (!r.source.equals("any") && !(colon == r.source.length() && l.startsWith(r.source))) continue;
            found = true;
            value = eq < 0 ? "" : l.substring(eq + 1);
            break;
        }
        return switch (r.op) {
            case EXISTS -> found;
            case NOT_EXISTS -> !found;
            case EQ, IN -> found && r.values.contains(value);
            case NEQ, NOTIN -> !found || !r.values.contains(value);
            case GT, LT -> {
                if (!found) yield false;
                try {
                    long v = Long.parseLong(value);
                    yield r.op == Op.GT ? v > r.number : v < r.number;
                } catch (NumberFormatException e) {
                    yield false;
                }
            }
        };
    }
}
