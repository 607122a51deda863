package dev.sieve.cli.observe;

import com.google.protobuf.Timestamp;
import dev.sieve.cli.UsageException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code --since}/{@code --until} values as hubble accepts them: a Go duration before now ({@code 30s},
 * {@code 5m}, {@code 1h30m}, {@code 1.5h}) or a timestamp (RFC 3339 such as {@code 2024-05-01T10:00:00Z} or
 * {@code 2024-05-01T12:00:00+02:00}; without an offset it is local time).
 */
final class TimeArgs {

    private TimeArgs() {}

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    static Timestamp parse(String flag, String value, Instant now, ZoneId zone) {
        String v = value.trim();
        Long nanos = durationNanos(v);
        if (nanos != null) return ts(now.minusNanos(nanos));
        try {
            return ts(OffsetDateTime.parse(v).toInstant());
        } catch (DateTimeParseException e) {
            // try without offset
        }
        try {
            return ts(LocalDateTime.parse(v).atZone(zone).toInstant());
        } catch (DateTimeParseException e) {
            throw new UsageException(flag + " " + value + ": expected a duration like 5m or 1h30m, or a timestamp like 2024-05-01T10:00:00Z");
        }
    }

    static Long durationNanos(String v) {
        if (v.isEmpty()) return null;
        Matcher m = PART.matcher(v);
        int pos = 0;
        double total = 0;
        while (m.find() && m.start() == pos) {
            double n = Double.parseDouble(m.group(1));
            total += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            pos = m.end();
        }
        return pos == v.length() && pos > 0 ? (long) total : null;
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }
}
