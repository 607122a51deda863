package dev.sieve.observer.metrics;

import dev.sieve.api.HubbleNames;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.observer.enrich.FlowEnricher;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * Hubble's flow metrics plus gauges the agent registers, in the Prometheus text format (0.0.4).
 *
 * <ul>
 *   <li>{@code hubble_flows_processed_total{type,subtype,verdict}} — type {@code Drop}, {@code Trace},
 *       {@code PolicyVerdict} or {@code L7}; subtype the trace observation point ({@code to-endpoint}, ...)
 *       for traces, empty otherwise; verdict the Verdict name (Hubble's {@code flows-processed} metric);</li>
 *   <li>{@code hubble_drop_total{reason,protocol}} — DropReason name and L4 protocol (Hubble's
 *       {@code drop} metric);</li>
 *   <li>{@code hubble_policy_verdicts_total{direction,match,action}} — lower-case direction, match type
 *       ({@code l3-l4}, {@code none}, ...) and verdict (Hubble's {@code policy} metric), counted for every
 *       policy decision (policy verdict and drop events);</li>
 *   <li>{@code hubble_lost_events_total{source}} — {@code perf_event_ring_buffer},
 *       {@code observer_events_queue}, {@code hubble_ring_buffer};</li>
 *   <li>{@code sieve_*} gauges from {@link #gauge}.</li>
 * </ul>
 */
public final class FlowMetrics {

    private record Processed(String type, String subtype, String verdict) {}
    private record Drop(String reason, String protocol) {}
    private record PolicyVerdict(String direction, String match, String action) {}
    private record Gauge(String name, String help, String labels, DoubleSupplier value) {}

    private final Map<Processed, LongAdder> processed = new ConcurrentHashMap<>();
    private final Map<Drop, LongAdder> drops = new ConcurrentHashMap<>();
    private final Map<PolicyVerdict, LongAdder> verdicts = new ConcurrentHashMap<>();
    private final Map<LostEventSource, LongAdder> lost = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Gauge> gauges = new CopyOnWriteArrayList<>();

    /** Counts one flow. */
    public void observe(Flow f) {
        int type = f.getEventType().getType();
        String verdict = f.getVerdict().name();
        String typeName;
        String subtype = "";
        if (f.hasL7()) {
            typeName = "L7";
            subtype = switch (f.getL7().getRecordCase()) {
                case HTTP -> "HTTP";
                case DNS -> "DNS";
                case KAFKA -> "Kafka";
                default -> "";
            };
        } else {
            typeName = switch (type) {
                case FlowEnricher.EVENT_DROP -> "Drop";
                case FlowEnricher.EVENT_TRACE -> "Trace";
                case FlowEnricher.EVENT_POLICY_VERDICT -> "PolicyVerdict";
                case 3 -> "Capture";
                case 2 -> "Debug";
                default -> "Unknown";
            };
            if (type == FlowEnricher.EVENT_TRACE) subtype = HubbleNames.traceObservationPoint(f.getEventType().getSubType());
        }
        processed.computeIfAbsent(new Processed(typeName, subtype, verdict), k -> new LongAdder()).increment();
        if (f.getVerdict() == dev.sieve.api.flow.Verdict.DROPPED) {
            drops.computeIfAbsent(new Drop(f.getDropReasonDesc().name(), protocol(f)), k -> new LongAdder()).increment();
        }
        if (type == FlowEnricher.EVENT_POLICY_VERDICT || type == FlowEnricher.EVENT_DROP) {
            String dir = f.getTrafficDirection().name().toLowerCase(Locale.ROOT);
            String match = HubbleNames.policyMatchType(f.getPolicyMatchType()).toLowerCase(Locale.ROOT);
            verdicts.computeIfAbsent(new PolicyVerdict(dir, match, verdict.toLowerCase(Locale.ROOT)), k -> new LongAdder()).increment();
        }
    }

    /** Counts lost events. */
    public void lost(LostEventSource source, long n) {
        if (n > 0) lost.computeIfAbsent(source, k -> new LongAdder()).add(n);
    }

    /**
     * Registers a gauge; {@code name} should start with {@code sieve_}. {@code labels} is empty or a
     * Prometheus label set without braces, e.g. {@code map="policy"}.
     */
    public void gauge(String name, String help, String labels, DoubleSupplier value) {
        gauges.add(new Gauge(name, help, labels == null ? "" : labels, value));
    }

    private static String protocol(Flow f) {
        return switch (f.getL4().getProtocolCase()) {
            case TCP -> "TCP";
            case UDP -> "UDP";
            case SCTP -> "SCTP";
            case ICMPV4 -> "ICMPv4";
            case ICMPV6 -> "ICMPv6";
            case PROTOCOL_NOT_SET -> "Unknown";
        };
    }

    /** Writes every metric in the Prometheus text format. */
    public void write(Appendable out) throws IOException {
        header(out, "hubble_flows_processed_total", "Total number of flows processed", "counter");
        for (var e : sorted(processed).entrySet()) {
            Processed k = e.getKey();
            sample(out, "hubble_flows_processed_total", "subtype=\"" + k.subtype + "\",type=\"" + k.type + "\",verdict=\"" + k.verdict + "\"", e.getValue().sum());
        }
        header(out, "hubble_drop_total", "Number of drops", "counter");
        for (var e : sorted(drops).entrySet()) {
            sample(out, "hubble_drop_total", "protocol=\"" + e.getKey().protocol + "\",reason=\"" + e.getKey().reason + "\"", e.getValue().sum());
        }
        header(out, "hubble_policy_verdicts_total", "Total number of Cilium network policy verdicts", "counter");
        for (var e : sorted(verdicts).entrySet()) {
            PolicyVerdict k = e.getKey();
            sample(out, "hubble_policy_verdicts_total", "action=\"" + k.action + "\",direction=\"" + k.direction + "\",match=\"" + k.match + "\"", e.getValue().sum());
        }
        header(out, "hubble_lost_events_total", "Number of lost events", "counter");
        for (LostEventSource s : new LostEventSource[] {LostEventSource.PERF_EVENT_RING_BUFFER, LostEventSource.OBSERVER_EVENTS_QUEUE, LostEventSource.HUBBLE_RING_BUFFER}) {
            LongAdder a = lost.get(s);
            sample(out, "hubble_lost_events_total", "source=\"" + s.name().toLowerCase(Locale.ROOT) + "\"", a == null ? 0 : a.sum());
        }
        String last = null;
        for (Gauge g : gauges) {
            if (!g.name.equals(last)) header(out, g.name, g.help, "gauge");
            last = g.name;
            double v = g.value.getAsDouble();
            out.append(g.name);
            if (!g.labels.isEmpty()) out.append('{').append(g.labels).append('}');
            out.append(' ').append(v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v)).append('\n');
        }
    }


    private static <K> Map<K, LongAdder> sorted(Map<K, LongAdder> m) {
        Map<K, LongAdder> out = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        out.putAll(m);
        return out;
    }

    private static void header(Appendable out, String name, String help, String type) throws IOException {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(Appendable out, String name, String labels, long v) throws IOException {
        out.append(name).append('{').append(labels).append("} ").append(Long.toString(v)).append('\n');
    }
}
