package dev.sieve.relay.http;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.flowfilter.HubbleFlags;
import dev.sieve.flowfilter.InvalidFilterException;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import jakarta.ws.rs.core.MultivaluedMap;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * REST query parameters -> {@link FlowQuery}. Filter parameters are {@code hubble observe}'s filter flags by
 * name ({@code verdict}, {@code from-pod}, {@code namespace}, {@code to-port}, {@code label}, ...: every flag of
 * {@link HubbleFlags}), translated by the same code as {@code sieve observe}'s flags; {@code not-NAME} is
 * {@code --not --NAME}. A flag without a value ({@code ipv4}, {@code all-namespaces}) takes {@code true}. Values of
 * flags whose values hold no commas may also be given comma-separated ({@code verdict=DROPPED,AUDIT}).
 * {@code drop-reason} is kept as another name of {@code drop-reason-desc}. Besides: since/until (RFC 3339, epoch
 * seconds or a duration ago such as 5m), last/first N, follow, all; {@code whitelist} / {@code blacklist} take
 * FlowFilter JSON (Hubble's jsonpb), repeatable.
 */
public final class QueryParams {
    private QueryParams() {}

    static final Set<String> OTHER = Set.of("since", "until", "last", "first", "follow", "whitelist", "blacklist", "bucket", "all");

    /** Flags whose values may contain commas (selectors, regular expressions, headers, flag lists): never split. */
    private static final Set<String> UNSPLIT = Set.of("label", "from-label", "to-label", "node-label", "http-path", "http-url",
            "http-header", "tcp-flags", "cel-expression");

    public static FlowQuery parse(MultivaluedMap<String, String> p) {
        HubbleFlags flags = new HubbleFlags();
        try {
            for (Map.Entry<String, List<String>> e : p.entrySet()) {
                String key = e.getKey();
                if (OTHER.contains(key)) continue;
                boolean not = key.startsWith("not-");
                String flag = not ? key.substring(4) : key;
                if (flag.equals("drop-reason")) flag = "drop-reason-desc";
                if (!HubbleFlags.isFilterFlag(flag) || flag.equals("not")) throw new InvalidQueryException("unknown query parameter \"" + key + "\"");
                for (String v : values(flag, e.getValue())) {
                    if (not) flags.not();
                    if (HubbleFlags.SWITCH_FLAGS.contains(flag)) {
                        if (v.isEmpty() || bool(v)) flags.set(flag, null);
                        else if (not) throw new InvalidQueryException(key + ": only true makes sense");
                    } else {
                        flags.set(flag, v);
                    }
                }
            }
            flags.done();
        } catch (InvalidFilterException e) {
            throw new InvalidQueryException(e.getMessage());
        }
        List<FlowFilter> white = new ArrayList<>(flags.whitelist());
        for (String j : raw(p, "whitelist")) white.add(json(j, "whitelist"));
        List<FlowFilter> black = new ArrayList<>(flags.blacklist());
        for (String j : raw(p, "blacklist")) black.add(json(j, "blacklist"));

        Instant now = Instant.now();
        Instant since = time(p.getFirst("since"), now, "since"), until = time(p.getFirst("until"), now, "until");
        long last = num(p.getFirst("last"), "last"), first = num(p.getFirst("first"), "first");
        if (last > 0 && first > 0) throw new InvalidQueryException("last and first exclude each other");
        boolean follow = bool(p.getFirst("follow"));
        long n = first > 0 ? first : last;
        if (n == 0 && since == null && !follow && !bool(p.getFirst("all"))) n = 20; // hubble observe's default
        return new FlowQuery(white, black, since, until, n, first > 0, follow);
    }

    private static List<String> values(String flag, List<String> given) {
        List<String> out = new ArrayList<>();
        for (String v : given) {
            if (UNSPLIT.contains(flag) || !v.contains(",")) out.add(v);
            else for (String x : v.split(",")) if (!x.isBlank()) out.add(x.trim());
        }
        return out;
    }

    private static List<String> raw(MultivaluedMap<String, String> p, String k) {
        List<String> vs = p.get(k);
        return vs == null ? List.of() : vs;
    }

    private static FlowFilter json(String s, String k) {
        try {
            return HubbleJson.merge(s, FlowFilter.newBuilder()).build();
        } catch (Exception e) {
            throw new InvalidQueryException(k + ": not a FlowFilter in JSON: " + e.getMessage());
        }
    }

    static long num(String v, String k) {
        if (v == null || v.isEmpty()) return 0;
        try {
            long n = Long.parseLong(v);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidQueryException(k + ": not a non-negative number: \"" + v + "\"");
        }
    }

    static boolean bool(String v) {
        return v != null && (v.isEmpty() || v.equalsIgnoreCase("true") || v.equals("1"));
    }

    /** RFC 3339, epoch seconds, or a duration ago ("5m", "2h", "1d", "30s"). */
    public static Instant time(String v, Instant now, String k) {
        if (v == null || v.isEmpty()) return null;
        if (v.matches("\\d+[smhd]")) {
            try {
                return now.minus(duration(v, k));
            } catch (ArithmeticException | java.time.DateTimeException e) {
                throw new InvalidQueryException(k + ": \"" + v + "\" ago is before any time there is");
            }
        }
        if (v.matches("\\d{9,11}")) return Instant.ofEpochSecond(Long.parseLong(v));
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new InvalidQueryException(k + ": not a time (RFC 3339, epoch seconds or e.g. 5m ago): \"" + v + "\"");
        }
    }

    public static Duration duration(String v, String k) {
        if (v == null || !v.matches("\\d+[smhd]")) throw new InvalidQueryException(k + ": not a duration like 60s, 5m, 1h, 1d: \"" + v + "\"");
        try {
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            return switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new InvalidQueryException(k + ": duration \"" + v + "\" is too long");
        }
    }
}
