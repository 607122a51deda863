package dev.sieve.dashboards;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What Grafana and the ClickHouse data source plugin (grafana-clickhouse-datasource v4) do to a panel's SQL
 * before ClickHouse sees it, in their order:
 *
 * <ol>
 *   <li>the plugin's frontend replaces {@code $__conditionalAll(condition, $var)} by {@code 1=1} when the
 *       variable's current value is All ({@code $__all}) or empty, else by the condition
 *       ({@code CHDatasource.applyConditionalAll});</li>
 *   <li>Grafana's template service replaces {@code $var}, {@code ${var}}, {@code ${var:format}} and
 *       {@code [[var]]}; without a format the plugin's own formatter is used (a multi value becomes
 *       {@code 'a','b'}, a single value is inserted raw); unknown names are left as they are;</li>
 *   <li>the plugin's backend expands its macros ({@code pkg/macros} through the SDK's
 *       {@code sqlutil.Interpolate}: {@code \$__name\b}, arguments only in brackets right after the name,
 *       split at top-level commas and trimmed, longer names first).</li>
 * </ol>
 *
 * Only the macros the dashboards use are implemented; any other {@code $__macro} left in the SQL is an error,
 * so a dashboard cannot use one this check does not know.
 */
final class GrafanaQuery {
    private GrafanaQuery() {}

    /** A variable's current value: selected values of a multi-value variable, or one string. */
    sealed interface Value permits Multi, Scalar {}

    /** {@code selected == null} means All; {@code options} are what All stands for (every option). */
    record Multi(List<String> selected, List<String> options) implements Value {
        boolean all() {
            return selected == null;
        }

        List<String> values() {
            return all() ? options : selected;
        }
    }

    record Scalar(String value) implements Value {}

    /** The query's time range and interval, as Grafana sends them to the backend. */
    record Range(Instant from, Instant to, Duration interval) {}

    // ---------------------------------------------------------------- 1. $__conditionalAll (plugin frontend)

    static String conditionalAll(String sql, Map<String, Value> vars) {
        String macro = "$__conditionalAll(";
        int at = sql.lastIndexOf(macro);
        Pattern varName = Pattern.compile("(?<=\\$\\{)[\\w\\d]+(?=})|(?<=\\$)[\\w\\d]+");
        while (at != -1) {
            List<String> params = macroArgs(sql, at + macro.length() - 1);
            if (params.size() != 2) return sql;
            Matcher m = varName.matcher(params.get(1).trim());
            String phrase = params.get(0);
            if (m.find()) {
                Value v = vars.get(m.group());
                String current = v == null ? null : switch (v) {
                    case Multi mv -> mv.all() ? "$__all" : String.join(",", mv.selected());
                    case Scalar s -> s.value();
                };
                if (current != null && (current.isEmpty() || current.equals("$__all"))) phrase = "1=1";
            }
            sql = jsReplaceFirst(sql, macro + params.get(0) + "," + params.get(1) + ")", phrase);
            at = sql.lastIndexOf(macro);
        }
        return sql;
    }

    /** The plugin's getMacroArgs: from the opening bracket, split at commas of bracket depth 1. */
    private static List<String> macroArgs(String query, int argsIndex) {
        List<String> args = new ArrayList<>();
        String s = query.substring(argsIndex);
        int depth = 0, lastEnd = 1;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '(' && c != ')' && c != ',') continue;
            if (c == '(') depth++;
            else if (c == ')') depth--;
            if (c == ',' && depth == 1) {
                args.add(s.substring(lastEnd, i));
                lastEnd = i + 1;
            }
            if (depth == 0) {
                args.add(s.substring(lastEnd, i));
                return args;
            }
        }
        return List.of();
    }

    /** JavaScript's {@code String.replace(string, string)}: first occurrence, with $$, $&, $` and $' in the replacement. */
    private static String jsReplaceFirst(String s, String pattern, String replacement) {
        int i = s.indexOf(pattern);
        if (i < 0) return s;
        StringBuilder r = new StringBuilder();
        for (int k = 0; k < replacement.length(); k++) {
            char c = replacement.charAt(k);
            if (c == '$' && k + 1 < replacement.length()) {
                char n = replacement.charAt(k + 1);
                switch (n) {
                    case '$' -> { r.append('$'); k++; continue; }
                    case '&' -> { r.append(pattern); k++; continue; }
                    case '`' -> { r.append(s, 0, i); k++; continue; }
                    case '\'' -> { r.append(s.substring(i + pattern.length())); k++; continue; }
                    default -> { }
                }
            }
            r.append(c);
        }
        return s.substring(0, i) + r + s.substring(i + pattern.length());
    }

    // ---------------------------------------------------------------- 2. template variables (Grafana)

    /** Grafana's variable syntax (templateSrv's regex). */
    static final Pattern VARIABLE = Pattern.compile("\\$(\\w+)|\\[\\[(\\w+?)(?::(\\w+))?]]|\\$\\{(\\w+)(?:\\.([^:^}]+))?(?::([^}]+))?}");

    static String variables(String sql, Map<String, Value> vars, Range range) {
        Matcher m = VARIABLE.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4);
            String format = m.group(3) != null ? m.group(3) : m.group(6);
            String replaced = replace(name, format, vars, range);
            m.appendReplacement(out, Matcher.quoteReplacement(replaced == null ? m.group() : replaced));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String replace(String name, String format, Map<String, Value> vars, Range range) {
        if (name.equals("__from") || name.equals("__to")) {
            Instant t = name.equals("__from") ? range.from() : range.to();
            if (format == null) return Long.toString(t.toEpochMilli());
            if (format.equals("date:iso")) return t.toString();
            throw new IllegalArgumentException("unsupported format " + format + " of $" + name);
        }
        Value v = vars.get(name);
        if (v == null) return null;
        List<String> values = switch (v) {
            case Multi mv -> mv.values();
            case Scalar s -> List.of(s.value());
        };
        boolean multi = v instanceof Multi;
        if (format == null) return multi ? "'" + String.join("','", values) + "'" : values.getFirst(); // the plugin's formatter
        return switch (format) {
            case "singlequote" -> values.stream().map(x -> "'" + x.replace("'", "\\'") + "'").collect(Collectors.joining(","));
            case "csv" -> String.join(",", values);
            case "raw", "text" -> String.join(",", values);
            case "percentencode" -> {
                String joined = multi && values.size() > 1 ? "{" + String.join(",", values) + "}" : String.join(",", values);
                yield URLEncoder.encode(joined, StandardCharsets.UTF_8).replace("+", "%20");
            }
            default -> throw new IllegalArgumentException("unsupported format " + format + " of $" + name);
        };
    }

    // ---------------------------------------------------------------- 3. backend macros (plugin pkg/macros)

    static final List<String> MACROS = List.of("timeFilter", "fromTime", "toTime", "interval_s");
    /** Every macro name the backend knows (the plugin's and the SDK's defaults): all take part in the longest-first order. */
    private static final List<String> KNOWN = List.of("fromTime", "toTime", "fromTime_ms", "toTime_ms", "timeFilter", "timeFilter_ms",
            "dateFilter", "dateTimeFilter", "dt", "timeInterval", "timeInterval_ms", "interval_s", "interval", "interval_ms", "timeFrom",
            "timeTo", "timeGroup", "table", "column");

    static String macros(String sql, Range range) {
        List<String> names = new ArrayList<>(KNOWN);
        names.sort(Comparator.comparingInt(String::length).reversed());
        for (String name : names) {
            Matcher m = Pattern.compile("\\$__" + Pattern.quote(name) + "\\b").matcher(sql);
            List<String[]> found = new ArrayList<>(); // full match, args joined
            List<List<String>> args = new ArrayList<>();
            while (m.find()) {
                String rest = sql.substring(m.end());
                List<String> a = new ArrayList<>();
                int len = parseArgs(rest, a);
                if (len < 0) throw new IllegalArgumentException("$__" + name + ": missing close bracket");
                if (!MACROS.contains(name)) throw new IllegalArgumentException("$__" + name + " is not one of the macros this check expands " + MACROS);
                found.add(new String[] {sql.substring(m.start(), m.end() + len)});
                args.add(a);
            }
            for (int i = 0; i < found.size(); i++) sql = sql.replace(found.get(i)[0], expand(name, args.get(i), range));
        }
        Matcher left = Pattern.compile("\\$__\\w+").matcher(sql);
        if (left.find()) throw new IllegalArgumentException("unknown macro " + left.group() + " (not in " + MACROS + ")");
        return sql;
    }

    /** sqlutil.parseArgs: a bracketed list right at the start, split at depth-1 commas, trimmed. */
    private static int parseArgs(String s, List<String> out) {
        if (!s.startsWith("(")) return 0;
        int depth = 0;
        StringBuilder arg = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
                if (depth == 1) continue;
            } else if (c == ')') {
                depth--;
                if (depth == 0) {
                    out.add(arg.toString().trim());
                    return i + 1;
                }
            } else if (c == ',' && depth == 1) {
                out.add(arg.toString().trim());
                arg.setLength(0);
                continue;
            }
            arg.append(c);
        }
        return -1;
    }

    private static String expand(String name, List<String> args, Range r) {
        String from = "toDateTime(" + r.from().getEpochSecond() + ")", to = "toDateTime(" + r.to().getEpochSecond() + ")";
        return switch (name) {
            case "fromTime" -> from;
            case "toTime" -> to;
            case "interval_s" -> Long.toString(Math.max(r.interval().toSeconds(), 1));
            case "timeFilter" -> {
                if (args.size() != 1) throw new IllegalArgumentException("$__timeFilter: expected 1 argument, received " + args.size());
                yield args.getFirst() + " >= " + from + " AND " + args.getFirst() + " <= " + to;
            }
            default -> throw new IllegalStateException(name);
        };
    }

    /** All three steps: the SQL the plugin sends to ClickHouse. */
    static String expand(String sql, Map<String, Value> vars, Range range) {
        return macros(variables(conditionalAll(sql, vars), vars, range), range);
    }
}
