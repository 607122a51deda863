package dev.sieve.relay.query;

import dev.sieve.api.flow.FlowFilter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One FlowFilter split into conditions a store can evaluate on its columns ({@link Cond}), plus
 * whether those conditions are the whole filter ({@code exact}). When not exact, the columns give a
 * superset and the store decodes the candidates and applies {@link FlowMatcher}.
 */
public record FilterPlan(List<Cond> conds, boolean exact) {

  public enum IntCol { VERDICT, DROP_REASON, DIRECTION, PROTOCOL, SRC_PORT, DST_PORT, SRC_IDENTITY, DST_IDENTITY }

  public sealed interface Cond {}

  /** The column holds one of the values. */
  public record IntIn(IntCol col, long[] values) implements Cond {}

  /** (namespace, pod) matches one of the "namespace/prefix" values. */
  public record PodIn(boolean source, List<FlowMatcher.NamespacedPrefix> values) implements Cond {}

  /** The address equals one of the values or lies in one of the CIDRs. */
  public record IpIn(boolean source, List<String> values) implements Cond {
    public boolean hasCidr() {
      return values.stream().anyMatch(v -> v.contains("/"));
    }
  }

  /** The node name matches one of the glob patterns. */
  public record NodeIn(List<String> patterns) implements Cond {}

  /** The endpoint's labels satisfy one of the selectors. */
  public record LabelIn(boolean source, List<String> selectors) implements Cond {}

  private static final Set<Integer> COLUMNAR = Set.of(1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 19, 20, 24, 30, 33);

  public static FilterPlan of(FlowFilter f, Predicate<Cond> supported) {
    FlowMatcher.validate(List.of(f));
    List<Cond> all = new ArrayList<>();
    Set<Integer> covered = new HashSet<>();
    add(all, covered, 5, f.getVerdictCount() > 0 ? new IntIn(IntCol.VERDICT, f.getVerdictValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
    add(all, covered, 33, f.getDropReasonDescCount() > 0 ? new IntIn(IntCol.DROP_REASON, f.getDropReasonDescValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
    add(all, covered, 30, f.getTrafficDirectionCount() > 0 ? new IntIn(IntCol.DIRECTION, f.getTrafficDirectionValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
    if (f.getProtocolCount() > 0) {
      List<String> ps = f.getProtocolList().stream().map(FlowMatcher::normalizeProtocol).toList();
      if (ps.stream().allMatch(p -> FlowRow.protocolCode(p) > 0))
        add(all, covered, 12, new IntIn(IntCol.PROTOCOL, ps.stream().mapToLong(FlowRow::protocolCode).toArray()));
    }
    add(all, covered, 13, f.getSourcePortCount() > 0 ? new IntIn(IntCol.SRC_PORT, f.getSourcePortList().stream().mapToLong(v -> FlowMatcher.parsePort(v, "source_port")).toArray()) : null);
    add(all, covered, 14, f.getDestinationPortCount() > 0 ? new IntIn(IntCol.DST_PORT, f.getDestinationPortList().stream().mapToLong(v -> FlowMatcher.parsePort(v, "destination_port")).toArray()) : null);
    add(all, covered, 19, f.getSourceIdentityCount() > 0 ? new IntIn(IntCol.SRC_IDENTITY, f.getSourceIdentityList().stream().mapToLong(Integer::toUnsignedLong).toArray()) : null);
    add(all, covered, 20, f.getDestinationIdentityCount() > 0 ? new IntIn(IntCol.DST_IDENTITY, f.getDestinationIdentityList().stream().mapToLong(Integer::toUnsignedLong).toArray()) : null);
    add(all, covered, 2, f.getSourcePodCount() > 0 ? new PodIn(true, f.getSourcePodList().stream().map(v -> FlowMatcher.NamespacedPrefix.parse(v, "source_pod")).toList()) : null);
    add(all, covered, 4, f.getDestinationPodCount() > 0 ? new PodIn(false, f.getDestinationPodList().stream().map(v -> FlowMatcher.NamespacedPrefix.parse(v, "destination_pod")).toList()) : null);
    add(all, covered, 1, f.getSourceIpCount() > 0 ? new IpIn(true, List.copyOf(f.getSourceIpList())) : null);
    add(all, covered, 3, f.getDestinationIpCount() > 0 ? new IpIn(false, List.copyOf(f.getDestinationIpList())) : null);
    add(all, covered, 24, f.getNodeNameCount() > 0 ? new NodeIn(List.copyOf(f.getNodeNameList())) : null);
    add(all, covered, 10, f.getSourceLabelCount() > 0 ? new LabelIn(true, List.copyOf(f.getSourceLabelList())) : null);
    add(all, covered, 11, f.getDestinationLabelCount() > 0 ? new LabelIn(false, List.copyOf(f.getDestinationLabelList())) : null);

    List<Cond> kept = new ArrayList<>();
    boolean exact = true;
    for (int i = 0; i < all.size(); i++) {
      if (supported.test(all.get(i))) kept.add(all.get(i));
      else exact = false;
    }
    for (int field : FlowMatcher.setFields(f)) if (!COLUMNAR.contains(field) || !covered.contains(field)) exact = false;
    return new FilterPlan(List.copyOf(kept), exact);
  }

  private static void add(List<Cond> all, Set<Integer> covered, int field, Cond c) {
    if (c == null) return;
    all.add(c);
    covered.add(field);
  }

  /** Plans for a whole query: whitelist (superset allowed) and the blacklist filters that are exact (the rest need the matcher). */
  public record QueryPlan(List<FilterPlan> whitelist, List<FilterPlan> exactBlacklist, boolean needsMatcher) {
    public static QueryPlan of(FlowQuery q, Predicate<Cond> supported) {
      List<FilterPlan> w = q.whitelist().stream().map(f -> FilterPlan.of(f, supported)).toList();
      List<FilterPlan> b = q.blacklist().stream().map(f -> FilterPlan.of(f, supported)).toList();
      boolean needs = w.stream().anyMatch(p -> !p.exact()) || b.stream().anyMatch(p -> !p.exact());
      return new QueryPlan(w, b.stream().filter(FilterPlan::exact).toList(), needs);
    }
  }
}
