package dev.sieve.observer.metrics;

import dev.sieve.api.HubbleNames;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.Verdict;
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
 * Hubble's flow metrics plus gauges the agent registers, in the Prometheus text format (0.0.4). Names,
 * labels and label values are those of Cilium's {@code pkg/hubble/metrics} handlers (without context
 * labels), so dashboards made for Hubble read them unchanged:
 *
 * <ul>
 *   <li>{@code hubble_flows_processed_total{protocol,type,subtype,verdict}} ({@code flow}) — protocol as
 *       Hubble's {@code FlowProtocol} ({@code TCP}, ..., {@code Unknown L4}; {@code DNS}/{@code HTTP}/
 *       {@code Kafka} for L7); type {@code Drop}, {@code Trace}, {@code PolicyVerdict}, {@code Capture},
 *       {@code L7} or {@code Unknown}; subtype the trace observation point ({@code to-endpoint}, ...), the
 *       L7 record ({@code DNS}, {@code HTTP}), the event type number for unknown types, else empty;</li>
 *   <li>{@code hubble_drop_total{reason,protocol}} ({@code drop}) — DropReason name, FlowProtocol;</li>
 *   <li>{@code hubble_policy_verdicts_total{direction,match,action}} ({@code policy}) — lower-case
 *       direction, match type ({@code l3-l4}, {@code none}, ..., {@code l7/http}) and verdict. Hubble counts
 *       policy-verdict events (not from the host identity) and L7 records; Sieve's datapath reports a
 *       policy deny as one drop event where Cilium sends a policy verdict and a drop, so drops for a policy
 *       reason ({@code POLICY_DENIED}, {@code POLICY_DENY}) count here too;</li>
 *   <li>{@code hubble_tcp_flags_total{flag,family}} ({@code tcp}) — forwarded or redirected TCP flows:
 *       {@code SYN}, {@code SYN-ACK}, {@code FIN}, {@code RST}; family {@code IPv4}/{@code IPv6};</li>
 *   <li>{@code hubble_port_distribution_total{protocol,port}} ({@code port-distribution}) — forwarded or
 *       redirected flows that are not replies, by destination port ({@code 0} for ICMP);</li>
 *   <li>{@code hubble_icmp_total{family,type}} ({@code icmp}) — every ICMP flow, type as gopacket names it
 *       ({@code EchoRequest}). Cilium labels ICMPv6 with family {@code IPv4} (a slip in its handler); this
 *       says {@code IPv6}, which is what the community dashboard's ICMPv6 panels select;</li>
 *   <li>{@code hubble_dns_queries_total{rcode,qtypes,ips_returned}}, {@code hubble_dns_responses_total{rcode,qtypes,
 *       ips_returned}}, {@code hubble_dns_response_types_total{type,qtypes}} ({@code dns}) — from DNS L7 flows: a
 *       dropped query counts as a query with rcode {@code Policy denied}, a request with an empty rcode, a response
 *       with the rcode's name ({@code No Error}, {@code Query Refused}, ...), one response type per answer type;</li>
 *   <li>{@code hubble_lost_events_total{source}} — {@code perf_event_ring_buffer},
 *       {@code observer_events_queue}, {@code hubble_ring_buffer};</li>
 *   <li>Hubble's {@code http} metrics ({@link HttpMetrics}) and Sieve's proxy counters ({@link ProxyMetrics}), from
 *       L7 flows;</li>
 *   <li>{@code sieve_*} gauges from {@link #gauge}.</li>
 * </ul>
 */
public final class FlowMetrics {

    /** Cilium's monitor message type of L7 access-log records. */
    static final int EVENT_ACCESS_LOG = 129;
    private static final int IDENTITY_HOST = 1;

    private record Processed(String protocol, String type, String subtype, String verdict) {}
    private record Drop(String reason, String protocol) {}
    private record PolicyVerdict(String direction, String match, String action) {}
    private record TcpFlag(String flag, String family) {}
    private record Port(String protocol, String port) {}
    private record Icmp(String family, String type) {}
    private record DnsCount(String rcode, String qtypes, String ipsReturned) {}
    private record DnsType(String type, String qtypes) {}
    private record Gauge(String name, String help, String labels, DoubleSupplier value) {}

    private final Map<Processed, LongAdder> processed = new ConcurrentHashMap<>();
    private final Map<Drop, LongAdder> drops = new ConcurrentHashMap<>();
    private final Map<PolicyVerdict, LongAdder> verdicts = new ConcurrentHashMap<>();
    private final Map<TcpFlag, LongAdder> tcpFlags = new ConcurrentHashMap<>();
    private final Map<Port, LongAdder> ports = new ConcurrentHashMap<>();
    private final Map<Icmp, LongAdder> icmp = new ConcurrentHashMap<>();
    private final Map<DnsCount, LongAdder> dnsQueries = new ConcurrentHashMap<>();
    private final Map<DnsCount, LongAdder> dnsResponses = new ConcurrentHashMap<>();
    private final Map<DnsType, LongAdder> dnsResponseTypes = new ConcurrentHashMap<>();
    private final Map<LostEventSource, LongAdder> lost = new ConcurrentHashMap<>();
    private final CopyOnWriteArrayList<Gauge> gauges = new CopyOnWriteArrayList<>();
    private final HttpMetrics http = new HttpMetrics();
    private final ProxyMetrics proxy = new ProxyMetrics();
    private final KafkaMetrics kafka = new KafkaMetrics();

    /** Packets the datapath dropped by Hubble drop reason name and Hubble protocol name (TCP, UDP, ICMPv4, ...). */
    public record DatapathDrop(String reason, String protocol, long packets) {}

    private volatile java.util.function.Supplier<java.util.List<DatapathDrop>> datapathDrops;

    /**
     * Takes {@code hubble_drop_total}'s L3/L4 part from the datapath's per-CPU drop counters (every dropped packet,
     * whether or not its event was reported or rate-limited) instead of from drop flows; L7 drops stay counted from
     * the proxies' flows.
     */
    public void setDatapathDrops(java.util.function.Supplier<java.util.List<DatapathDrop>> source) {
        this.datapathDrops = source;
    }

    /** Counts one flow. */
    public void observe(Flow f) {
        int type = f.getEventType().getType();
        Verdict verdict = f.getVerdict();
        boolean l7 = type == EVENT_ACCESS_LOG || f.hasL7();
        String protocol = protocol(f, l7);
        String typeName;
        String subtype = "";
        if (l7) {
            typeName = "L7";
            subtype = switch (f.getL7().getRecordCase()) {
                case DNS -> "DNS";
                case HTTP -> "HTTP";
                default -> "";
            };
        } else {
            typeName = switch (type) {
                case FlowEnricher.EVENT_DROP -> "Drop";
                case FlowEnricher.EVENT_TRACE -> "Trace";
                case FlowEnricher.EVENT_POLICY_VERDICT -> "PolicyVerdict";
                case 3 -> "Capture";
                default -> "Unknown";
            };
            if (type == FlowEnricher.EVENT_TRACE) subtype = HubbleNames.traceObservationPoint(f.getEventType().getSubType());
            else if (typeName.equals("Unknown")) subtype = Integer.toString(type);
        }
        count(processed, new Processed(protocol, typeName, subtype, verdict.name()));
        // L3/L4 drops come from the datapath's own counters when it has them: exact, also for drops no event reported
        if (verdict == Verdict.DROPPED && (l7 || datapathDrops == null)) count(drops, new Drop(f.getDropReasonDesc().name(), protocol));
        policyVerdict(f, type, l7);
        if (verdict == Verdict.FORWARDED || verdict == Verdict.REDIRECTED) {
            tcpFlags(f);
            if (f.hasIsReply() && !f.getIsReply().getValue()) portDistribution(f);
        }
        if (l7 && f.getL7().hasDns()) dns(f);
        if (f.getL4().hasICMPv4()) count(icmp, new Icmp("IPv4", HubbleNames.icmpv4(f.getL4().getICMPv4().getType(), f.getL4().getICMPv4().getCode())));
        if (f.getL4().hasICMPv6()) count(icmp, new Icmp("IPv6", HubbleNames.icmpv6(f.getL4().getICMPv6().getType(), f.getL4().getICMPv6().getCode())));
        if (l7) {
            http.observe(f);
            kafka.observe(f);
            proxy.observe(f);
        }
    }

    private void policyVerdict(Flow f, int type, boolean l7) {
        String dir = f.getTrafficDirection().name().toLowerCase(Locale.ROOT);
        String action = f.getVerdict().name().toLowerCase(Locale.ROOT);
        if (l7) {
            String sub = switch (f.getL7().getRecordCase()) {
                case DNS -> "dns";
                case HTTP -> "http";
                case KAFKA -> "kafka";
                default -> "";
            };
            count(verdicts, new PolicyVerdict(dir, "l7/" + sub, action));
            return;
        }
        boolean policyDrop = type == FlowEnricher.EVENT_DROP
                && (f.getDropReasonDesc() == DropReason.POLICY_DENIED || f.getDropReasonDesc() == DropReason.POLICY_DENY);
        if (type != FlowEnricher.EVENT_POLICY_VERDICT && !policyDrop) return;
        if (f.getSource().getIdentity() == IDENTITY_HOST) return;
        int matchType = f.getPolicyMatchType();
        // a drop event carries no match type: a named deny rule matched like the policy verdict of an allow rule
        if (matchType == 0 && policyDrop && (f.getIngressDeniedByCount() + f.getEgressDeniedByCount()) > 0) matchType = FlowEnricher.MATCH_L3_L4;
        count(verdicts, new PolicyVerdict(dir, HubbleNames.policyMatchType(matchType).toLowerCase(Locale.ROOT), action));
    }

    /** Hubble's {@code dns} handler: a dropped query counts with rcode "Policy denied", a response by its rcode. */
    private void dns(Flow f) {
        var dns = f.getL7().getDns();
        String qtypes = String.join(",", dns.getQtypesList());
        String ips = Integer.toString(dns.getIpsCount());
        boolean reply = f.getIsReply().getValue() || f.getL7().getType() == dev.sieve.api.flow.L7FlowType.RESPONSE;
        if (f.getVerdict() == Verdict.DROPPED) {
            count(dnsQueries, new DnsCount("Policy denied", qtypes, ips));
        } else if (!reply) {
            count(dnsQueries, new DnsCount("", qtypes, ips));
        } else {
            count(dnsResponses, new DnsCount(DNS_RCODES.getOrDefault(dns.getRcode(), ""), qtypes, ips));
            for (String t : dns.getRrtypesList()) count(dnsResponseTypes, new DnsType(t, qtypes));
        }
    }

    /** Hubble's names of DNS response codes ({@code pkg/hubble/metrics/dns/rcode.go}). */
    private static final Map<Integer, String> DNS_RCODES = Map.ofEntries(
            Map.entry(0, "No Error"), Map.entry(1, "Format Error"), Map.entry(2, "Server Failure"), Map.entry(3, "Non-Existent Domain"),
            Map.entry(4, "Not Implemented"), Map.entry(5, "Query Refused"), Map.entry(6, "Name Exists when it should not"),
            Map.entry(7, "RR Set Exists when it should not"), Map.entry(8, "RR Set that should exist does not"), Map.entry(9, "Not Authorized"),
            Map.entry(10, "Name not contained in zone"), Map.entry(11, "DSO-TYPE Not Implemented"), Map.entry(16, "Bad OPT Version"),
            Map.entry(17, "Key not recognized"), Map.entry(18, "Signature out of time window"), Map.entry(19, "Bad TKEY Mode"),
            Map.entry(20, "Duplicate key name"), Map.entry(21, "Algorithm not supported"), Map.entry(22, "Bad Truncation"),
            Map.entry(23, "Bad/missing Server Cookie"));

    private void tcpFlags(Flow f) {
        if (!f.getL4().hasTCP() || !f.getL4().getTCP().hasFlags() || !f.hasIP()) return;
        TCPFlags t = f.getL4().getTCP().getFlags();
        String family = f.getIP().getIpVersion().name();
        if (t.getFIN()) count(tcpFlags, new TcpFlag("FIN", family));
        if (t.getSYN()) count(tcpFlags, new TcpFlag(t.getACK() ? "SYN-ACK" : "SYN", family));
        if (t.getRST()) count(tcpFlags, new TcpFlag("RST", family));
    }

    private void portDistribution(Flow f) {
        var l4 = f.getL4();
        switch (l4.getProtocolCase()) {
            case TCP -> count(ports, new Port("TCP", Integer.toString(l4.getTCP().getDestinationPort())));
            case UDP -> count(ports, new Port("UDP", Integer.toString(l4.getUDP().getDestinationPort())));
            case SCTP -> count(ports, new Port("SCTP", Integer.toString(l4.getSCTP().getDestinationPort())));
            case ICMPV4 -> count(ports, new Port("ICMPv4", "0"));
            case ICMPV6 -> count(ports, new Port("ICMPv6", "0"));
            default -> { }
        }
    }

    private static <K> void count(Map<K, LongAdder> m, K key) {
        m.computeIfAbsent(key, k -> new LongAdder()).increment();
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

    /** Hubble's {@code FlowProtocol}: the L7 protocol of an L7 record, else the L4 protocol. */
    private static String protocol(Flow f, boolean l7) {
        if (l7) {
            return switch (f.getL7().getRecordCase()) {
                case DNS -> "DNS";
                case HTTP -> "HTTP";
                case KAFKA -> "Kafka";
                default -> "Unknown L7";
            };
        }
        return switch (f.getL4().getProtocolCase()) {
            case TCP -> "TCP";
            case UDP -> "UDP";
            case SCTP -> "SCTP";
            case ICMPV4 -> "ICMPv4";
            case ICMPV6 -> "ICMPv6";
            default -> "Unknown L4";
        };
    }

    /** Writes every metric in the Prometheus text format. */
    public void write(Appendable out) throws IOException {
        header(out, "hubble_flows_processed_total", "Total number of flows processed", "counter");
        for (var e : sorted(processed).entrySet()) {
            Processed k = e.getKey();
            sample(out, "hubble_flows_processed_total", "protocol=\"" + k.protocol + "\",subtype=\"" + k.subtype + "\",type=\"" + k.type + "\",verdict=\"" + k.verdict + "\"", e.getValue().sum());
        }
        header(out, "hubble_drop_total", "Number of drops", "counter");
        Map<Drop, LongAdder> allDrops = new java.util.HashMap<>(drops);
        var dp = datapathDrops;
        if (dp != null) {
            for (DatapathDrop d : dp.get()) {
                LongAdder sum = new LongAdder();
                LongAdder l7 = allDrops.get(new Drop(d.reason(), d.protocol()));
                if (l7 != null) sum.add(l7.sum());
                sum.add(d.packets());
                allDrops.put(new Drop(d.reason(), d.protocol()), sum);
            }
        }
        for (var e : sorted(allDrops).entrySet()) {
            sample(out, "hubble_drop_total", "protocol=\"" + e.getKey().protocol + "\",reason=\"" + e.getKey().reason + "\"", e.getValue().sum());
        }
        header(out, "hubble_policy_verdicts_total", "Total number of Cilium network policy verdicts", "counter");
        for (var e : sorted(verdicts).entrySet()) {
            PolicyVerdict k = e.getKey();
            sample(out, "hubble_policy_verdicts_total", "action=\"" + k.action + "\",direction=\"" + k.direction + "\",match=\"" + k.match + "\"", e.getValue().sum());
        }
        header(out, "hubble_tcp_flags_total", "TCP flag occurrences", "counter");
        for (var e : sorted(tcpFlags).entrySet()) {
            sample(out, "hubble_tcp_flags_total", "family=\"" + e.getKey().family + "\",flag=\"" + e.getKey().flag + "\"", e.getValue().sum());
        }
        header(out, "hubble_port_distribution_total", "Numbers of packets distributed by destination port", "counter");
        for (var e : sorted(ports).entrySet()) {
            sample(out, "hubble_port_distribution_total", "port=\"" + e.getKey().port + "\",protocol=\"" + e.getKey().protocol + "\"", e.getValue().sum());
        }
        header(out, "hubble_icmp_total", "Number of ICMP messages", "counter");
        for (var e : sorted(icmp).entrySet()) {
            sample(out, "hubble_icmp_total", "family=\"" + e.getKey().family + "\",type=\"" + e.getKey().type + "\"", e.getValue().sum());
        }
        header(out, "hubble_dns_queries_total", "Number of DNS queries observed", "counter");
        for (var e : sorted(dnsQueries).entrySet()) {
            DnsCount k = e.getKey();
            sample(out, "hubble_dns_queries_total", "ips_returned=\"" + k.ipsReturned + "\",qtypes=\"" + k.qtypes + "\",rcode=\"" + k.rcode + "\"", e.getValue().sum());
        }
        header(out, "hubble_dns_responses_total", "Number of DNS queries observed", "counter");
        for (var e : sorted(dnsResponses).entrySet()) {
            DnsCount k = e.getKey();
            sample(out, "hubble_dns_responses_total", "ips_returned=\"" + k.ipsReturned + "\",qtypes=\"" + k.qtypes + "\",rcode=\"" + k.rcode + "\"", e.getValue().sum());
        }
        header(out, "hubble_dns_response_types_total", "Number of DNS queries observed", "counter");
        for (var e : sorted(dnsResponseTypes).entrySet()) {
            sample(out, "hubble_dns_response_types_total", "qtypes=\"" + e.getKey().qtypes + "\",type=\"" + e.getKey().type + "\"", e.getValue().sum());
        }
        header(out, "hubble_lost_events_total", "Number of lost events", "counter");
        for (LostEventSource s : new LostEventSource[] {LostEventSource.PERF_EVENT_RING_BUFFER, LostEventSource.OBSERVER_EVENTS_QUEUE, LostEventSource.HUBBLE_RING_BUFFER}) {
            LongAdder a = lost.get(s);
            sample(out, "hubble_lost_events_total", "source=\"" + s.name().toLowerCase(Locale.ROOT) + "\"", a == null ? 0 : a.sum());
        }
        http.write(out);
        proxy.write(out);
        kafka.write(out);
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


    static <K> Map<K, LongAdder> sorted(Map<K, LongAdder> m) {
        Map<K, LongAdder> out = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        out.putAll(m);
        return out;
    }

    static void header(Appendable out, String name, String help, String type) throws IOException {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    static void sample(Appendable out, String name, String labels, long v) throws IOException {
        out.append(name).append('{').append(labels).append("} ").append(Long.toString(v)).append('\n');
    }
}
