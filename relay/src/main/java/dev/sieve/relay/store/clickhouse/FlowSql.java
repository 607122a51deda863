package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.query.FilterPlan;
import dev.sieve.relay.query.FilterPlan.Cond;
import dev.sieve.relay.query.FlowQuery;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A query's filters as SQL on the flows columns: the conditions of a {@link FilterPlan} that
 * translate exactly (verdict, drop reason, direction, L4 protocol, ports, identities, pods,
 * canonical IPv4 literals); the rest is left to flowfilter's matcher in Java. Every user value is
 * escaped ({@link Sql}) or formatted from a parsed number.
 */
final class FlowSql {
    private FlowSql() {}

    /** Whether a condition translates to SQL exactly. */
    static boolean supported(Cond c) {
        return switch (c) {
            case FilterPlan.IntIn in -> true;
            case FilterPlan.PodIn p -> true;
            // exact only where string equality is the same test: canonical IPv4 literals; node-name patterns are
            // lower-cased FQDN patterns with an implied cluster, left to the matcher
            case FilterPlan.IpIn ip -> ip.values().stream().allMatch(FlowSql::canonicalIpv4);
            case FilterPlan.NodeIn n -> false;
            case FilterPlan.LabelIn l -> false;
        };
    }

    private static boolean canonicalIpv4(String v) {
        return v.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}") && Arrays.stream(v.split("\\.")).allMatch(o -> Integer.parseInt(o) < 256);
    }

    static String toSql(Cond c) {
        return switch (c) {
            case FilterPlan.IntIn in -> {
                String col = switch (in.col()) {
                    case VERDICT -> "verdict";
                    case DROP_REASON -> "drop_reason";
                    case DIRECTION -> "direction";
                    case PROTOCOL -> "protocol";
                    case SRC_PORT -> "src_port";
                    case DST_PORT -> "dst_port";
                    case SRC_IDENTITY -> "src_identity";
                    case DST_IDENTITY -> "dst_identity";
                };
                yield in.values().length == 1 ? col + " = " + in.values()[0] : col + " IN " + Sql.numList(in.values());
            }
            case FilterPlan.PodIn p -> {
                String ns = p.source() ? "src_namespace" : "dst_namespace", pod = p.source() ? "src_pod" : "dst_pod";
                List<String> ors = new ArrayList<>();
                for (var v : p.values()) {
                    List<String> ands = new ArrayList<>();
                    ands.add(ns + " = " + Sql.str(v.namespace()));
                    if (!v.prefix().isEmpty()) ands.add(pod + " LIKE " + Sql.likePrefix(v.prefix()));
                    ands.add("NOT (" + ns + " = '' AND " + pod + " = '')");
                    ors.add("(" + String.join(" AND ", ands) + ")");
                }
                yield "(" + String.join(" OR ", ors) + ")";
            }
            case FilterPlan.IpIn ip -> (ip.source() ? "src_ip" : "dst_ip") + " IN " + Sql.strList(ip.values());
            case FilterPlan.NodeIn n -> throw new IllegalStateException("node names are matched in Java");
            case FilterPlan.LabelIn l -> throw new IllegalStateException("labels are not SQL columns");
        };
    }

    /** The WHERE clause for a query plan (time range + whitelist superset + exact blacklist), "" for none. */
    static String where(FlowQuery q, FilterPlan.QueryPlan plan) {
        List<String> ands = new ArrayList<>();
        if (q.since() != null) {
            long s = q.sinceNanos();
            long sec = Math.floorDiv(s, 1_000_000_000L), ns = Math.floorMod(s, 1_000_000_000L);
            ands.add("time >= toDateTime(" + sec + ")");
            if (ns > 0) ands.add("(time > toDateTime(" + sec + ") OR nanos >= " + ns + ")");
        }
        if (q.until() != null) {
            long u = q.untilNanos();
            long sec = Math.floorDiv(u, 1_000_000_000L), ns = Math.floorMod(u, 1_000_000_000L);
            ands.add("time <= toDateTime(" + sec + ")");
            ands.add("(time < toDateTime(" + sec + ") OR nanos <= " + ns + ")");
        }
        if (!plan.whitelist().isEmpty()) {
            List<String> ors = new ArrayList<>();
            for (FilterPlan p : plan.whitelist()) ors.add(conj(p));
            ands.add("(" + String.join(" OR ", ors) + ")");
        }
        for (FilterPlan p : plan.exactBlacklist()) ands.add("NOT " + conj(p));
        return ands.isEmpty() ? "" : " WHERE " + String.join(" AND ", ands);
    }

    /** {@code where} narrowed to whole seconds {@code lo} to {@code hi}. */
    static String within(String where, long lo, long hi) {
        return (where.isEmpty() ? " WHERE " : where + " AND ") + "time >= toDateTime(" + Math.max(0, lo) + ") AND time <= toDateTime(" + hi + ")";
    }

    /**
     * A PREWHERE clause for (loSec, loNanos) through (hiSec, hiNanos), both included, and every condition of
     * {@code where}: ClickHouse reads the other columns only of granules where a row passes.
     */
    static String prewhere(String where, long loSec, long loNanos, long hiSec, long hiNanos) {
        return " PREWHERE time >= toDateTime(" + loSec + ") AND time <= toDateTime(" + hiSec + ")"
                + " AND (time > toDateTime(" + loSec + ") OR nanos >= " + loNanos + ")"
                + " AND (time < toDateTime(" + hiSec + ") OR nanos <= " + hiNanos + ")"
                + (where.isEmpty() ? "" : " AND " + where.substring(" WHERE ".length()));
    }

    private static String conj(FilterPlan p) {
        if (p.conds().isEmpty()) return "(1 = 1)";
        return "(" + p.conds().stream().map(FlowSql::toSql).collect(Collectors.joining(" AND ")) + ")";
    }

    /** A time range on an aggregate table's column, "1 = 1" for none. */
    static String range(String col, Instant since, Instant until) {
        List<String> c = new ArrayList<>();
        if (since != null) c.add(col + " >= toDateTime(" + since.getEpochSecond() + ")");
        if (until != null) c.add(col + " <= toDateTime(" + until.getEpochSecond() + ")");
        return c.isEmpty() ? "1 = 1" : String.join(" AND ", c);
    }

    static String namespaceIs(String namespace) {
        if (namespace == null || namespace.isEmpty()) return "";
        return " AND (src_namespace = " + Sql.str(namespace) + " OR dst_namespace = " + Sql.str(namespace) + ")";
    }
}
