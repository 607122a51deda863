package dev.sieve.relay.store.clickhouse;

import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.Policy;
import dev.sieve.relay.query.FilterPlan;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.StoreException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * The read path: flows matching a {@link FlowQuery} (the filters ClickHouse evaluates exactly as SQL,
 * {@link FlowSql}; the rest with flowfilter's matcher), rebuilt from the {@code flow} column and the
 * columns it was stripped of, and the aggregates (counts, service map, policies) from the
 * SummingMergeTree tables.
 */
final class FlowReads {
    /** What a flow is rebuilt from: the flow column plus every column it was stripped of. */
    private static final String FLOW_READ_COLUMNS = "time, nanos, verdict, drop_reason, direction, src_namespace, src_pod, src_identity, "
            + "src_labels, dst_namespace, dst_pod, dst_identity, dst_labels, src_ip, dst_ip, node_name, uuid, policies, flow";

    private final ClickHouseConnection ch;
    private final String database;
    private final LabelSets labelSets;

    FlowReads(ClickHouseConnection ch, String database, LabelSets labelSets) {
        this.ch = ch;
        this.database = database;
        this.labelSets = labelSets;
    }

    /** A row read back: its time, and the flow when the query selected {@link #FLOW_READ_COLUMNS}. */
    private record Row(long sec, long nanos, Flow flow) {}

    private interface RowSink {
        boolean accept(Row r);
    }

    void query(FlowQuery q, Consumer<Flow> sink) throws StoreException {
        FilterPlan.QueryPlan plan = FilterPlan.QueryPlan.of(q, FlowSql::supported);
        Predicate<Flow> matcher = plan.needsMatcher() ? q.matcher() : null;
        String where = FlowSql.where(q, plan);
        long n = q.number();
        if (n <= 0) {
            // everything that matches, oldest first: streamed to the sink as ClickHouse sends it
            read(ch.sql("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows") + where + " ORDER BY time, nanos", true, r -> {
                Flow f = r.flow();
                if (matcher == null || matcher.test(f)) sink.accept(f);
                return true;
            });
            return;
        }
        boolean newest = !q.first();
        Lookback windows = Lookback.of(q, n, partsSpan());
        List<Flow> out = new ArrayList<>();
        if (windows != null) {
            if (matcher == null) topN(where, n, newest, windows, out);
            else matched(where, matcher, n, newest, windows, out);
        }
        if (newest) Collections.reverse(out);
        out.forEach(sink);
    }

    /**
     * The N newest (or oldest) flows whose filters are all SQL, in two phases. Phase 1 finds the (time,
     * nanos) of the top N, window by window from the newest (oldest) second: with the table keyed by
     * time ({@link Schema#TIME_KEY}) a window is a primary-key range, so only its granules are read, and
     * only the small columns. Phase 2 reads the flows from the first to the last of those keys, to the
     * nanosecond, every condition in PREWHERE: ClickHouse reads the wide columns only of granules that
     * hold one of them.
     */
    private void topN(String where, long n, boolean newest, Lookback windows, List<Flow> out) throws StoreException {
        String dir = newest ? " DESC" : "";
        String order = " ORDER BY time" + dir + ", nanos" + dir;
        List<Row> keys = new ArrayList<>();
        for (long[] w = windows.first(); w != null && keys.size() < n; w = windows.next()) {
            read(ch.sql("SELECT time, nanos FROM {db}.flows") + FlowSql.within(where, w[0], w[1]) + order + " LIMIT " + (n - keys.size()), false,
                    r -> { keys.add(r); return true; });
        }
        if (keys.isEmpty()) return;
        Row first = keys.getFirst(), last = keys.getLast();
        Row lo = newest ? last : first, hi = newest ? first : last;
        read(ch.sql("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows") + FlowSql.prewhere(where, lo.sec(), lo.nanos(), hi.sec(), hi.nanos())
                + order + " LIMIT " + n, true, r -> { out.add(r.flow()); return true; });
    }

    /** The N newest (oldest) flows when a filter part is evaluated in Java: whole flows, window by window. */
    private void matched(String where, Predicate<Flow> matcher, long n, boolean newest, Lookback windows, List<Flow> out) throws StoreException {
        String dir = newest ? " DESC" : "";
        String flows = ch.sql("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows");
        for (long[] w = windows.first(); w != null && out.size() < n; w = windows.next()) {
            read(flows + FlowSql.within(where, w[0], w[1]) + " ORDER BY time" + dir + ", nanos" + dir, true, r -> {
                Flow f = r.flow();
                if (matcher.test(f)) out.add(f);
                return out.size() < n;
            });
        }
    }

    /** What the active parts of flows say about its time span (seconds), and the rows and span of the newest and oldest part. */
    record PartsSpan(long min, long max, long newestRows, long newestSeconds, long oldestRows, long oldestSeconds) {}

    /** From the parts' metadata (no rows read); null without rows. */
    private PartsSpan partsSpan() throws StoreException {
        long min = Long.MAX_VALUE, max = Long.MIN_VALUE, newestRows = 0, newestSecs = 1, oldestRows = 0, oldestSecs = 1;
        for (String[] r : ch.rows("SELECT toUInt32(min_time), toUInt32(max_time), rows FROM system.parts WHERE database = " + Sql.str(database)
                + " AND table = 'flows' AND active AND rows > 0")) {
            long lo = Long.parseLong(r[0]), hi = Long.parseLong(r[1]), rows = Long.parseLong(r[2]);
            if (hi > max || hi == max && rows > newestRows) {
                newestRows = rows;
                newestSecs = hi - lo + 1;
            }
            if (lo < min || lo == min && rows > oldestRows) {
                oldestRows = rows;
                oldestSecs = hi - lo + 1;
            }
            min = Math.min(min, lo);
            max = Math.max(max, hi);
        }
        return max == Long.MIN_VALUE ? null : new PartsSpan(min, max, newestRows, newestSecs, oldestRows, oldestSecs);
    }

    /**
     * Time windows (whole seconds, both ends included) from the newest second a query can match back
     * (or from the oldest forward), each older than the last and 8 times as wide, until the query's
     * bound or the stored flows' first (last) second. The first window is as wide as the newest
     * (oldest) part says holds about 2N rows.
     */
    static final class Lookback {
        private final boolean newest;
        private final long bound;
        private long cursor, width;
        private long[] current;

        private Lookback(boolean newest, long edge, long bound, long width) {
            this.newest = newest;
            this.cursor = edge;
            this.bound = bound;
            this.width = width;
        }

        /** The windows of a query over flows spanning {@code parts}; null when the query's range holds no stored second. */
        static Lookback of(FlowQuery q, long n, PartsSpan parts) {
            if (parts == null) return null;
            long lo = parts.min(), hi = parts.max();
            if (q.since() != null) lo = Math.max(lo, Math.floorDiv(q.sinceNanos(), 1_000_000_000L));
            if (q.until() != null) hi = Math.min(hi, Math.floorDiv(q.untilNanos(), 1_000_000_000L));
            if (lo > hi) return null;
            boolean newest = !q.first();
            long rows = newest ? parts.newestRows() : parts.oldestRows(), secs = newest ? parts.newestSeconds() : parts.oldestSeconds();
            long width = Math.clamp((long) Math.ceil(2.0 * n * secs / Math.max(1, rows)), 1L, 86_400L);
            return newest ? new Lookback(true, hi, lo, width) : new Lookback(false, lo, hi, width);
        }

        long[] first() {
            return current = window();
        }

        long[] next() {
            if (current == null || (newest ? current[0] <= bound : current[1] >= bound)) return null;
            cursor = newest ? current[0] - 1 : current[1] + 1;
            width = Math.min(width * 8, 86_400L * 366);
            return current = window();
        }

        private long[] window() {
            return newest ? new long[] {Math.max(bound, cursor - width + 1), cursor} : new long[] {cursor, Math.min(bound, cursor + width - 1)};
        }
    }

    private void read(String query, boolean withFlow, RowSink sink) throws StoreException {
        ch.read(query, (in, b) -> {
            long sec = in.u32(b);
            long nanos = in.u32();
            return sink.accept(new Row(sec, nanos, withFlow ? readFlow(in, sec, nanos) : null));
        });
    }

    /** Rebuilds a flow from the rest of a {@link #FLOW_READ_COLUMNS} row (time and nanos already read). */
    private Flow readFlow(RowBinary.In in, long sec, long nanos) throws IOException {
        int verdict = in.u8(), dropReason = in.u16(), direction = in.u8();
        String srcNamespace = in.str(), srcPod = in.str();
        long srcIdentity = in.u32(), srcLabels = in.u64();
        String dstNamespace = in.str(), dstPod = in.str();
        long dstIdentity = in.u32(), dstLabels = in.u64();
        String srcIp = in.str(), dstIp = in.str(), node = in.str(), uuid = in.str();
        String[] policies = new String[(int) in.varint()];
        for (int i = 0; i < policies.length; i++) policies[i] = in.str();
        byte[] blob = in.bytes(); // rows from before migration 4 hold everything here
        Flow.Builder b;
        try {
            b = Flow.newBuilder().mergeFrom(blob);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            // stored by a relay that did not check deeper than its columns: what the columns hold
            b = Flow.newBuilder().setIP(IP.getDefaultInstance()).setSource(Endpoint.getDefaultInstance()).setDestination(Endpoint.getDefaultInstance());
        }
        if (sec != 0 || nanos != 0) b.setTime(Timestamps.timestamp(sec * 1_000_000_000L + nanos));
        if (policies.length > 0) fillPolicies(b, policies);
        b.setVerdictValue(verdict).setDropReasonDescValue(dropReason).setTrafficDirectionValue(direction).setNodeName(node).setUuid(uuid);
        if (b.hasIP()) b.getIPBuilder().setSource(srcIp).setDestination(dstIp);
        if (b.hasSource()) {
            b.getSourceBuilder().setNamespace(srcNamespace).setPodName(srcPod).setIdentity((int) srcIdentity);
            if (srcLabels != 0) b.getSourceBuilder().addAllLabels(labelSets.labels(srcLabels));
        }
        if (b.hasDestination()) {
            b.getDestinationBuilder().setNamespace(dstNamespace).setPodName(dstPod).setIdentity((int) dstIdentity);
            if (dstLabels != 0) b.getDestinationBuilder().addAllLabels(labelSets.labels(dstLabels));
        }
        return b.build();
    }

    /**
     * Fills the policies the blob left empty from the row's policies column (its order: egress
     * allowed, ingress allowed, egress denied, ingress denied). Rows written before this kept whole
     * policies in the blob, which are left as they are.
     */
    static void fillPolicies(Flow.Builder b, String[] column) {
        int j = fill(b.getEgressAllowedByCount(), b::getEgressAllowedBy, b::setEgressAllowedBy, column, 0);
        j = fill(b.getIngressAllowedByCount(), b::getIngressAllowedBy, b::setIngressAllowedBy, column, j);
        j = fill(b.getEgressDeniedByCount(), b::getEgressDeniedBy, b::setEgressDeniedBy, column, j);
        fill(b.getIngressDeniedByCount(), b::getIngressDeniedBy, b::setIngressDeniedBy, column, j);
    }

    /** Fills the empty policies of one list from {@code column[j...]}; returns the column index after the list. */
    private static int fill(int count, IntFunction<Policy> get, PolicySetter set, String[] column, int j) {
        for (int i = 0; i < count; i++, j++) {
            if (j < column.length && get.apply(i).getSerializedSize() == 0) set.set(i, policy(column[j]));
        }
        return j;
    }

    /** A Flow.Builder's setter of one policy list. */
    private interface PolicySetter {
        void set(int index, Policy policy);
    }

    /** The Policy of a policies-column value "effect:kind/namespace/name". */
    private static Policy policy(String value) {
        int colon = value.indexOf(':'), kindEnd = value.indexOf('/', colon + 1), nsEnd = kindEnd < 0 ? -1 : value.indexOf('/', kindEnd + 1);
        if (colon < 0 || nsEnd < 0) return Policy.getDefaultInstance();
        return Policy.newBuilder().setKind(value.substring(colon + 1, kindEnd))
                .setNamespace(value.substring(kindEnd + 1, nsEnd)).setName(value.substring(nsEnd + 1)).build();
    }

    long size() throws StoreException {
        return Long.parseLong(ch.rows(ch.sql("SELECT count() FROM {db}.flows")).getFirst()[0]);
    }

    List<Aggregates.Bucket> counts(Instant since, Instant until, Duration bucket, String namespace) throws StoreException {
        long step = Math.max(60, bucket.toSeconds());
        TreeMap<Long, Map<String, Long>> by = new TreeMap<>();
        for (String[] r : ch.rows(ch.sql("SELECT intDiv(toUInt32(minute), " + step + ") * " + step + " AS b, verdict, sum(flows) FROM {db}.flow_minutes WHERE ")
                + FlowSql.range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + FlowSql.namespaceIs(namespace) + " GROUP BY b, verdict ORDER BY b"))
            by.computeIfAbsent(Long.parseLong(r[0]), k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[1])), Long.parseLong(r[2]), Long::sum);
        List<Aggregates.Bucket> out = new ArrayList<>();
        by.forEach((b, m) -> out.add(new Aggregates.Bucket(b, m.values().stream().mapToLong(Long::longValue).sum(), m.getOrDefault("DROPPED", 0L), m)));
        return out;
    }

    List<Aggregates.Edge> serviceMap(Instant since, Instant until, String namespace) throws StoreException {
        Map<List<String>, Map<String, Long>> by = new LinkedHashMap<>();
        for (String[] r : ch.rows(ch.sql("SELECT src_namespace, src_workload, dst_namespace, dst_workload, verdict, sum(flows) AS n FROM {db}.flow_minutes WHERE ")
                + FlowSql.range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + FlowSql.namespaceIs(namespace)
                + " GROUP BY src_namespace, src_workload, dst_namespace, dst_workload, verdict"))
            by.computeIfAbsent(List.of(r[0], r[1], r[2], r[3]), k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[4])), Long.parseLong(r[5]), Long::sum);
        List<Aggregates.Edge> out = new ArrayList<>();
        by.forEach((k, m) -> out.add(new Aggregates.Edge(k.get(0), k.get(1), k.get(2), k.get(3), m.values().stream().mapToLong(Long::longValue).sum(), m)));
        out.sort((a, b) -> Long.compare(b.flows(), a.flows()));
        return out;
    }

    List<Aggregates.PolicyUse> policies(Instant since, Instant until) throws StoreException {
        Map<String, Map<String, Long>> by = new TreeMap<>();
        for (String[] r : ch.rows(ch.sql("SELECT policy, verdict, sum(flows) FROM {db}.policy_minutes WHERE ")
                + FlowSql.range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + " GROUP BY policy, verdict"))
            by.computeIfAbsent(r[0], k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[1])), Long.parseLong(r[2]), Long::sum);
        List<Aggregates.PolicyUse> out = new ArrayList<>();
        by.forEach((k, m) -> out.add(Aggregates.PolicyUse.parse(k, m.values().stream().mapToLong(Long::longValue).sum(), m)));
        return out;
    }
}
