package dev.sieve.relay.query;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.flowfilter.FlowFilters;
import dev.sieve.flowfilter.InvalidFilterException;
import dev.sieve.flowfilter.NamespacedName;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * One FlowFilter split into conditions a store can evaluate on its columns ({@link Cond}), plus
 * whether those conditions are the whole filter ({@code exact}). When not exact, the columns give a
 * superset and the store decodes the candidates and applies the query's {@link FlowQuery#matcher}.
 */
public record FilterPlan(List<Cond> conds, boolean exact) {

    public enum IntCol { VERDICT, DROP_REASON, DIRECTION, PROTOCOL, SRC_PORT, DST_PORT, SRC_IDENTITY, DST_IDENTITY }

    public sealed interface Cond {}

    /** The column holds one of the values. */
    public record IntIn(IntCol col, long[] values) implements Cond {}

    /** (namespace, pod) matches one of the values ({@link NamespacedName#matches}). */
    public record PodIn(boolean source, List<NamespacedName> values) implements Cond {}

    /** The address equals one of the values or lies in one of the CIDRs. */
    public record IpIn(boolean source, List<String> values) implements Cond {
        public boolean hasCidr() {
            return values.stream().anyMatch(v -> v.contains("/"));
        }

        /** {@link FlowFilters#ipMatcher}: the same test the flow predicate makes. */
        public Predicate<String> matcher() {
            return FlowFilters.ipMatcher(source ? "source_ip" : "destination_ip", values);
        }
    }

    /** The node name matches one of the patterns ({@link FlowFilters#nodeNameMatcher}). */
    public record NodeIn(List<String> patterns) implements Cond {
        public Predicate<String> matcher() {
            return FlowFilters.nodeNameMatcher(patterns);
        }
    }

    /** The endpoint's labels satisfy one of the selectors ({@link FlowFilters#labelMatcher}). */
    public record LabelIn(boolean source, List<String> selectors) implements Cond {
        public Predicate<List<String>> matcher() {
            return FlowFilters.labelMatcher(source ? "source_label" : "destination_label", selectors);
        }
    }

    /** FlowFilter fields that have a column; a filter setting any other field needs the matcher. */
    private static final Set<Integer> COLUMNAR = Set.of(FlowFilter.SOURCE_IP_FIELD_NUMBER, FlowFilter.SOURCE_POD_FIELD_NUMBER,
            FlowFilter.DESTINATION_IP_FIELD_NUMBER, FlowFilter.DESTINATION_POD_FIELD_NUMBER, FlowFilter.VERDICT_FIELD_NUMBER,
            FlowFilter.SOURCE_LABEL_FIELD_NUMBER, FlowFilter.DESTINATION_LABEL_FIELD_NUMBER, FlowFilter.PROTOCOL_FIELD_NUMBER,
            FlowFilter.SOURCE_PORT_FIELD_NUMBER, FlowFilter.DESTINATION_PORT_FIELD_NUMBER, FlowFilter.SOURCE_IDENTITY_FIELD_NUMBER,
            FlowFilter.DESTINATION_IDENTITY_FIELD_NUMBER, FlowFilter.NODE_NAME_FIELD_NUMBER, FlowFilter.TRAFFIC_DIRECTION_FIELD_NUMBER,
            FlowFilter.DROP_REASON_DESC_FIELD_NUMBER);

    public static FilterPlan of(FlowFilter f, Predicate<Cond> supported) {
        try {
            FlowFilters.validate(List.of(f));
        } catch (InvalidFilterException e) {
            throw new InvalidQueryException(e.getMessage());
        }
        List<Cond> all = new ArrayList<>();
        Set<Integer> covered = new HashSet<>();
        add(all, covered, FlowFilter.VERDICT_FIELD_NUMBER, f.getVerdictCount() > 0 ? new IntIn(IntCol.VERDICT, f.getVerdictValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
        add(all, covered, FlowFilter.DROP_REASON_DESC_FIELD_NUMBER, f.getDropReasonDescCount() > 0 ? new IntIn(IntCol.DROP_REASON, f.getDropReasonDescValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
        add(all, covered, FlowFilter.TRAFFIC_DIRECTION_FIELD_NUMBER, f.getTrafficDirectionCount() > 0 ? new IntIn(IntCol.DIRECTION, f.getTrafficDirectionValueList().stream().mapToLong(Integer::longValue).toArray()) : null);
        if (f.getProtocolCount() > 0) {
            int mask = FlowFilters.protocolMask(f.getProtocolList());
            if ((mask & ~FlowFilters.P_L4) == 0) { // L4 protocols only: the protocol column decides
                long[] codes = java.util.stream.IntStream.range(0, 8).map(b -> mask & (1 << b)).filter(b -> b != 0).mapToLong(dev.sieve.relay.store.FlowColumns::protocolCode).toArray();
                add(all, covered, FlowFilter.PROTOCOL_FIELD_NUMBER, new IntIn(IntCol.PROTOCOL, codes));
            }
        }
        add(all, covered, FlowFilter.SOURCE_PORT_FIELD_NUMBER, f.getSourcePortCount() > 0 ? new IntIn(IntCol.SRC_PORT, f.getSourcePortList().stream().mapToLong(v -> FlowFilters.port("source_port", v)).toArray()) : null);
        add(all, covered, FlowFilter.DESTINATION_PORT_FIELD_NUMBER, f.getDestinationPortCount() > 0 ? new IntIn(IntCol.DST_PORT, f.getDestinationPortList().stream().mapToLong(v -> FlowFilters.port("destination_port", v)).toArray()) : null);
        add(all, covered, FlowFilter.SOURCE_IDENTITY_FIELD_NUMBER, f.getSourceIdentityCount() > 0 ? new IntIn(IntCol.SRC_IDENTITY, f.getSourceIdentityList().stream().mapToLong(Integer::toUnsignedLong).toArray()) : null);
        add(all, covered, FlowFilter.DESTINATION_IDENTITY_FIELD_NUMBER, f.getDestinationIdentityCount() > 0 ? new IntIn(IntCol.DST_IDENTITY, f.getDestinationIdentityList().stream().mapToLong(Integer::toUnsignedLong).toArray()) : null);
        add(all, covered, FlowFilter.SOURCE_POD_FIELD_NUMBER, f.getSourcePodCount() > 0 ? new PodIn(true, f.getSourcePodList().stream().map(v -> NamespacedName.parse("source_pod", v)).toList()) : null);
        add(all, covered, FlowFilter.DESTINATION_POD_FIELD_NUMBER, f.getDestinationPodCount() > 0 ? new PodIn(false, f.getDestinationPodList().stream().map(v -> NamespacedName.parse("destination_pod", v)).toList()) : null);
        add(all, covered, FlowFilter.SOURCE_IP_FIELD_NUMBER, f.getSourceIpCount() > 0 ? new IpIn(true, List.copyOf(f.getSourceIpList())) : null);
        add(all, covered, FlowFilter.DESTINATION_IP_FIELD_NUMBER, f.getDestinationIpCount() > 0 ? new IpIn(false, List.copyOf(f.getDestinationIpList())) : null);
        add(all, covered, FlowFilter.NODE_NAME_FIELD_NUMBER, f.getNodeNameCount() > 0 ? new NodeIn(List.copyOf(f.getNodeNameList())) : null);
        add(all, covered, FlowFilter.SOURCE_LABEL_FIELD_NUMBER, f.getSourceLabelCount() > 0 ? new LabelIn(true, List.copyOf(f.getSourceLabelList())) : null);
        add(all, covered, FlowFilter.DESTINATION_LABEL_FIELD_NUMBER, f.getDestinationLabelCount() > 0 ? new LabelIn(false, List.copyOf(f.getDestinationLabelList())) : null);

        List<Cond> kept = new ArrayList<>();
        boolean exact = true;
        for (Cond c : all) {
            if (supported.test(c)) kept.add(c);
            else exact = false;
        }
        for (FieldDescriptor field : f.getAllFields().keySet()) if (!COLUMNAR.contains(field.getNumber()) || !covered.contains(field.getNumber())) exact = false;
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
