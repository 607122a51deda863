package dev.sieve.observer.enrich;

import dev.sieve.api.HubbleNames;
import com.google.protobuf.BoolValue;
import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.CiliumEventType;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.ICMPv4;
import dev.sieve.api.flow.ICMPv6;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.NetworkInterface;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.SCTP;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TraceObservationPoint;
import dev.sieve.api.flow.TraceReason;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.UDP;
import dev.sieve.api.flow.Verdict;
import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Turns datapath verdict events into Hubble {@link Flow}s, enriched with identities, labels, pods,
 * workloads, policy names and a Hubble-style summary.
 *
 * <p>Event types follow Cilium's monitor message types, so {@code hubble observe --type ...} and Hubble's
 * printers see what they expect:
 * <ul>
 *   <li>a drop ({@code verdict == DROPPED}) is a drop notification: {@code event_type {type: 1, sub_type:
 *       <drop reason>}}, printed as e.g. {@code Policy denied};</li>
 *   <li>the policy decision for a new connection (flag NEW) is a policy verdict notification:
 *       {@code event_type {type: 5}}, {@code policy_match_type} L3-L4 when a rule matched (else none),
 *       printed as {@code policy-verdict:L3-L4 INGRESS ALLOWED};</li>
 *   <li>anything else (established, reply, flag change, close) is a trace notification at the pod's veth:
 *       {@code event_type {type: 4, sub_type: 0 (to-endpoint) | 5 (from-endpoint)}}, with
 *       {@code trace_observation_point} and {@code trace_reason} ESTABLISHED or REPLY.</li>
 * </ul>
 *
 * <p>One instance per thread: the caches are not synchronised. Endpoint messages are cached per (address,
 * identity, endpoint id) and policy messages per rule id, and both caches are dropped when the resolver's
 * {@link EndpointResolver#generation() generation} changes.
 */
public final class FlowEnricher {

    public static final int EVENT_DROP = 1;
    public static final int EVENT_TRACE = 4;
    public static final int EVENT_POLICY_VERDICT = 5;
    public static final int TRACE_TO_ENDPOINT = 0;
    public static final int TRACE_FROM_ENDPOINT = 5;
    public static final int MATCH_NONE = 0;
    public static final int MATCH_L3_L4 = 2;

    private static final int CACHE_LIMIT = 65_536;

    private final EndpointResolver resolver;
    private final String nodeName;
    private final LongUnaryOperator toEpochNanos;
    private final Map<EpKey, Peer> peers = new HashMap<>();
    private final Map<Integer, Policy> policies = new HashMap<>();
    private final Map<Integer, Boolean> noPolicy = new HashMap<>();
    private final long uuidHigh = ThreadLocalRandom.current().nextLong();
    private long uuidSeq;
    private long generation;
    private volatile NameResolver names = NameResolver.NONE;

    /**
     * @param toEpochNanos converts the event's {@code bpf_ktime_get_ns} timestamp to nanoseconds since the
     *     epoch; see {@link #monotonicToEpoch()}
     */
    public FlowEnricher(EndpointResolver resolver, String nodeName, LongUnaryOperator toEpochNanos) {
        this.resolver = resolver;
        this.nodeName = nodeName;
        this.toEpochNanos = toEpochNanos;
        this.generation = resolver.generation();
    }

    /**
     * CLOCK_MONOTONIC (what {@code bpf_ktime_get_ns} and, on Linux, {@link System#nanoTime()} read) to wall
     * time, following steps of the wall clock within a second ({@link MonotonicClock}).
     */
    public static LongUnaryOperator monotonicToEpoch() {
        return new MonotonicClock();
    }

    /** Where {@code source_names} / {@code destination_names} come from (the agent's learned FQDN cache). */
    public void setNameResolver(NameResolver names) {
        this.names = names == null ? NameResolver.NONE : names;
    }

    /** The caches of peers and policies hold until the resolver's cluster view changes. */
    private void forgetIfResolverChanged() {
        long g = resolver.generation();
        if (g != generation) {
            peers.clear();
            policies.clear();
            noPolicy.clear();
            generation = g;
        }
    }

    /** The enriched flow for one event. */
    @SuppressWarnings("deprecation")
    public Flow enrich(VerdictEvent e) {
        forgetIfResolverChanged();
        boolean ingress = e.direction() == Direction.INGRESS;
        // a packet dropped for its forged source (132) is the sending pod's, whoever owns that address
        Peer src = e.dropReason() == INVALID_SOURCE_IP
                ? resolvePeer(e.srcAddr(), e.srcIdentity(), e.endpointId(), false)
                : peer(e.srcAddr(), e.srcIdentity(), ingress ? 0 : e.endpointId());
        Peer dst = peer(e.dstAddr(), e.dstIdentity(), ingress ? e.endpointId() : 0);

        long epochNs = toEpochNanos.applyAsLong(e.timestampNs());
        Flow.Builder f = Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(Math.floorDiv(epochNs, 1_000_000_000L))
                        .setNanos((int) Math.floorMod(epochNs, 1_000_000_000L)))
                .setUuid(new UUID(uuidHigh, ++uuidSeq).toString())
                .setNodeName(nodeName)
                .setType(FlowType.L3_L4)
                .setSource(src.endpoint)
                .setDestination(dst.endpoint)
                .setIP(IP.newBuilder().setSource(src.ip).setDestination(dst.ip)
                        .setIpVersion(e.family() == 6 || e.srcAddr().length == 16 ? IPVersion.IPv6 : IPVersion.IPv4))
                .setTrafficDirection(ingress ? TrafficDirection.INGRESS : TrafficDirection.EGRESS)
                .setIsReply(e.isReply() ? TRUE : FALSE)
                .setReply(e.isReply());
        if (e.ifindex() != 0) f.setInterface(NetworkInterface.newBuilder().setIndex(e.ifindex()));
        if (e.proxyPort() != 0) f.setProxyPort(e.proxyPort());

        String summary = l4(f, e);
        f.setSummary(summary);

        Verdict verdict = Verdict.forNumber(e.verdict());
        if (verdict == null) verdict = Verdict.VERDICT_UNKNOWN;
        f.setVerdict(verdict);
        if (verdict == Verdict.DROPPED) {
            DropReason reason = DropReason.forNumber(e.dropReason());
            f.setDropReason(e.dropReason());
            f.setDropReasonDesc(reason == null ? DropReason.DROP_REASON_UNKNOWN : reason);
            f.setEventType(CiliumEventType.newBuilder().setType(EVENT_DROP).setSubType(e.dropReason()));
        } else if (e.isNewConnection()) {
            f.setEventType(CiliumEventType.newBuilder().setType(EVENT_POLICY_VERDICT));
            f.setPolicyMatchType(e.ruleId() != 0 ? MATCH_L3_L4 : MATCH_NONE);
        } else {
            f.setEventType(CiliumEventType.newBuilder().setType(EVENT_TRACE)
                    .setSubType(ingress ? TRACE_TO_ENDPOINT : TRACE_FROM_ENDPOINT));
            f.setTraceObservationPoint(ingress ? TraceObservationPoint.TO_ENDPOINT : TraceObservationPoint.FROM_ENDPOINT);
            f.setTraceReason(e.isReply() ? TraceReason.REPLY : TraceReason.ESTABLISHED);
        }

        NameResolver nr = names;
        if (nr != NameResolver.NONE) {
            f.addAllDestinationNames(nr.names(e.srcAddr(), e.dstAddr()));
            f.addAllSourceNames(nr.names(e.dstAddr(), e.srcAddr()));
        }

        Policy policy = policy(e.ruleId());
        if (policy != null) {
            boolean denied = verdict == Verdict.DROPPED;
            if (ingress) {
                if (denied) f.addIngressDeniedBy(policy);
                else f.addIngressAllowedBy(policy);
            } else {
                if (denied) f.addEgressDeniedBy(policy);
                else f.addEgressAllowedBy(policy);
            }
        }
        return f.build();
    }

    /** Cilium's MessageTypeAccessLog: the event type of L7 flows. */
    public static final int EVENT_ACCESS_LOG = 129;

    /**
     * The Hubble L7 flow for what a proxy reported: endpoints and identities from the addresses (as for datapath
     * events), type L7, event type 129, the direction of the policy that redirected the connection, the verdict,
     * the proxy's {@code l7} record and summary, and the policies that allowed or denied the request.
     */
    @SuppressWarnings("deprecation")
    public Flow enrich(dev.sieve.proxy.L7Event e) {
        forgetIfResolverChanged();
        byte[] sa = e.source().getAddress().getAddress(), da = e.destination().getAddress().getAddress();
        Peer src = peer(sa, resolver.identityOf(sa), 0);
        Peer dst = peer(da, resolver.identityOf(da), 0);
        long epochNs = e.epochNanos();
        boolean response = e.isResponse();
        Flow.Builder f = Flow.newBuilder()
                .setTime(Timestamp.newBuilder().setSeconds(Math.floorDiv(epochNs, 1_000_000_000L))
                        .setNanos((int) Math.floorMod(epochNs, 1_000_000_000L)))
                .setUuid(new UUID(uuidHigh, ++uuidSeq).toString())
                .setNodeName(nodeName)
                .setType(FlowType.L7)
                .setEventType(CiliumEventType.newBuilder().setType(EVENT_ACCESS_LOG))
                .setSource(src.endpoint)
                .setDestination(dst.endpoint)
                .setIP(IP.newBuilder().setSource(src.ip).setDestination(dst.ip)
                        .setIpVersion(sa.length == 16 ? IPVersion.IPv6 : IPVersion.IPv4))
                .setTrafficDirection(e.ingress() ? TrafficDirection.INGRESS : TrafficDirection.EGRESS)
                .setIsReply(response ? TRUE : FALSE)
                .setReply(response)
                .setVerdict(e.verdict())
                .setL7(e.layer7())
                .setSummary(e.summary() == null ? "" : e.summary());
        if (e.proxyPort() != 0) f.setProxyPort(e.proxyPort());
        int sp = e.source().getPort(), dp = e.destination().getPort();
        if (e.l4Protocol() == 17) {
            f.setL4(Layer4.newBuilder().setUDP(UDP.newBuilder().setSourcePort(sp).setDestinationPort(dp)));
        } else {
            f.setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(sp).setDestinationPort(dp)));
        }
        boolean denied = e.verdict() == Verdict.DROPPED;
        for (dev.sieve.policy.compute.RuleInfo r : e.egressRules()) {
            Policy p = policy(r.id());
            if (p == null) continue;
            if (denied) f.addEgressDeniedBy(p);
            else f.addEgressAllowedBy(p);
        }
        for (dev.sieve.policy.compute.RuleInfo r : e.ingressRules()) {
            Policy p = policy(r.id());
            if (p == null) continue;
            if (denied) f.addIngressDeniedBy(p);
            else f.addIngressAllowedBy(p);
        }
        return f.build();
    }

    private static final BoolValue TRUE = BoolValue.of(true);
    private static final BoolValue FALSE = BoolValue.of(false);

    private static String l4(Flow.Builder f, VerdictEvent e) {
        switch (e.protocol()) {
            case 6 -> {
                int fl = e.tcpFlags();
                TCP.Builder tcp = TCP.newBuilder().setSourcePort(e.srcPort()).setDestinationPort(e.dstPort());
                if (fl != 0) tcp.setFlags(tcpFlags(fl));
                f.setL4(Layer4.newBuilder().setTCP(tcp));
                return HubbleNames.tcpSummary(fl);
            }
            case 17 -> {
                f.setL4(Layer4.newBuilder().setUDP(UDP.newBuilder().setSourcePort(e.srcPort()).setDestinationPort(e.dstPort())));
                return "UDP";
            }
            case 132 -> {
                f.setL4(Layer4.newBuilder().setSCTP(SCTP.newBuilder().setSourcePort(e.srcPort()).setDestinationPort(e.dstPort())));
                return "SCTP";
            }
            case 1 -> {
                f.setL4(Layer4.newBuilder().setICMPv4(ICMPv4.newBuilder().setType(e.icmpType()).setCode(e.icmpCode())));
                return "ICMPv4 " + HubbleNames.icmpv4(e.icmpType(), e.icmpCode());
            }
            case 58 -> {
                f.setL4(Layer4.newBuilder().setICMPv6(ICMPv6.newBuilder().setType(e.icmpType()).setCode(e.icmpCode())));
                return "ICMPv6 " + HubbleNames.icmpv6(e.icmpType(), e.icmpCode());
            }
            default -> {
                return e.srcAddr().length == 16 ? "IPv6" : "IPv4";
            }
        }
    }

    private static final TCPFlags[] FLAGS = new TCPFlags[512];

    static TCPFlags tcpFlags(int fl) {
        TCPFlags cached = FLAGS[fl & 0x1ff];
        if (cached != null) return cached;
        TCPFlags t = TCPFlags.newBuilder()
                .setFIN((fl & HubbleNames.TCP_FIN) != 0).setSYN((fl & HubbleNames.TCP_SYN) != 0)
                .setRST((fl & HubbleNames.TCP_RST) != 0).setPSH((fl & HubbleNames.TCP_PSH) != 0)
                .setACK((fl & HubbleNames.TCP_ACK) != 0).setURG((fl & HubbleNames.TCP_URG) != 0)
                .setECE((fl & HubbleNames.TCP_ECE) != 0).setCWR((fl & HubbleNames.TCP_CWR) != 0)
                .setNS((fl & HubbleNames.TCP_NS) != 0).build();
        FLAGS[fl & 0x1ff] = t;
        return t;
    }

    private Policy policy(int ruleId) {
        if (ruleId == 0) return null;
        Policy p = policies.get(ruleId);
        if (p != null || noPolicy.containsKey(ruleId)) return p;
        EndpointResolver.PolicyRef ref = resolver.rule(ruleId);
        if (ref == null) {
            noPolicy.put(ruleId, Boolean.TRUE);
            return null;
        }
        p = ref.toProto();
        policies.put(ruleId, p);
        return p;
    }

    private record Peer(String ip, Endpoint endpoint) {}

    private record EpKey(long hi, long lo, int identity, int id) {}

    private Peer peer(byte[] addr, int identity, int endpointId) {
        EpKey key = key(addr, identity, endpointId);
        Peer p = peers.get(key);
        if (p != null) return p;
        if (peers.size() >= CACHE_LIMIT) peers.clear();
        p = resolvePeer(addr, identity, endpointId, true);
        peers.put(key, p);
        return p;
    }

    private static EpKey key(byte[] a, int identity, int id) {
        long hi = 0, lo = 0;
        if (a.length == 4) {
            lo = ((a[0] & 0xffL) << 24) | ((a[1] & 0xffL) << 16) | ((a[2] & 0xffL) << 8) | (a[3] & 0xffL);
            hi = -1; // distinguishes ::a.b.c.d from a.b.c.d
        } else {
            for (int i = 0; i < 8; i++) hi = (hi << 8) | (a[i] & 0xffL);
            for (int i = 8; i < 16; i++) lo = (lo << 8) | (a[i] & 0xffL);
        }
        return new EpKey(hi, lo, identity, id);
    }

    private static final int INVALID_SOURCE_IP = 132;

    private Peer resolvePeer(byte[] addr, int identity, int endpointId, boolean podByAddress) {
        String ip = Addresses.format(addr);
        Endpoint.Builder b = Endpoint.newBuilder().setIdentity(identity);
        if (endpointId != 0) b.setID(endpointId);
        List<String> labels = resolver.identityLabels(identity);
        b.addAllLabels(labels);
        EndpointResolver.PodRef pod = podByAddress ? resolver.podByAddress(addr) : null;
        if (pod != null) {
            b.setNamespace(pod.namespace()).setPodName(pod.name());
            for (EndpointResolver.Workload w : pod.workloads()) {
                b.addWorkloads(dev.sieve.api.flow.Workload.newBuilder().setName(w.name()).setKind(w.kind()));
            }
        } else {
            for (String l : labels) {
                if (l.startsWith("k8s:io.kubernetes.pod.namespace=")) {
                    b.setNamespace(l.substring("k8s:io.kubernetes.pod.namespace=".length()));
                    break;
                }
            }
        }
        return new Peer(ip, b.build());
    }
}
