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
  private final LabelSets labelSets;

  FlowReads(ClickHouseConnection ch, LabelSets labelSets) {
    this.ch = ch;
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
    boolean newest = !q.first();
    String dir = newest ? " DESC" : "";
    String order = " ORDER BY time" + dir + ", nanos" + dir;
    String flows = ch.sql("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows");
    long n = q.number();
    List<Flow> out = new ArrayList<>();
    if (n > 0 && matcher == null) {
      // phase 1: which (time, nanos) make the top N — reads two small columns only
      List<Row> keys = new ArrayList<>();
      read(ch.sql("SELECT time, nanos FROM {db}.flows") + where + order + " LIMIT " + n, false, r -> { keys.add(r); return true; });
      if (keys.isEmpty()) return;
      Row first = keys.getFirst(), last = keys.getLast();
      Row lo = newest ? last : first, hi = newest ? first : last;
      // phase 2: the flows from the first to the last of those keys, to the nanosecond — about N rows to read and sort
      // (as PREWHERE: ClickHouse reads the wide columns only of the granules that hold one of them)
      read(flows + FlowSql.between(lo.sec(), lo.nanos(), hi.sec(), hi.nanos()) + where + order + " LIMIT " + n, true,
          r -> { out.add(r.flow()); return true; });
    } else if (n > 0) {
      // a filter part that only Java can evaluate: walk time windows from the newest (or oldest)
      // matching second, growing the window, so ClickHouse never sorts more than one window
      List<String[]> range = ch.rows(ch.sql("SELECT toUInt32(min(time)), toUInt32(max(time)), count() FROM {db}.flows") + where);
      if (range.isEmpty() || Long.parseLong(range.getFirst()[2]) == 0) return;
      long min = Long.parseLong(range.getFirst()[0]), max = Long.parseLong(range.getFirst()[1]);
      long width = 60;
      long cursor = newest ? max : min;
      while (out.size() < n && (newest ? cursor >= min : cursor <= max)) {
        long lo = newest ? cursor - width + 1 : cursor, hi = newest ? cursor : cursor + width - 1;
        read(flows + FlowSql.within(where, lo, hi) + order, true, r -> {
          Flow f = r.flow();
          if (matcher.test(f)) out.add(f);
          return out.size() < n;
        });
        cursor = newest ? lo - 1 : hi + 1;
        width = Math.min(width * 4, 86_400L * 7);
      }
    } else {
      // everything that matches, oldest first: streamed to the sink as ClickHouse sends it
      read(flows + where + " ORDER BY time, nanos", true, r -> {
        Flow f = r.flow();
        if (matcher == null || matcher.test(f)) sink.accept(f);
        return true;
      });
      return;
    }
    if (newest) Collections.reverse(out);
    out.forEach(sink);
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
