package dev.sieve.flowfilter;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.NetworkInterface;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code hubble observe}'s filter flags turned into a whitelist and a blacklist the way the hubble CLI does it
 * ({@code cmd/observe/flows_filter.go}); used by {@code sieve observe} and by the relay's REST parameters, so a
 * flag means one thing everywhere. Each list keeps a "left" and a "right" FlowFilter: a flag that names either
 * side ({@code --pod}, {@code --ip}, {@code --label}, {@code --port}, {@code --identity}, {@code --fqdn},
 * {@code --service}, {@code --workload}, {@code --namespace}) puts its source form left and its destination form
 * right; every other flag goes into both, so flags AND together and "either side" ORs. {@code --not} sends the
 * next filter flag to the blacklist. Namespace flags are applied to the pod and service values when the lists are
 * read. Flags that cannot be combined, and bad values, throw {@link InvalidFilterException}.
 *
 * <p>Names are given without the leading dashes. One choice beyond hubble: {@code --all-namespaces} (and its
 * from/to forms) drops the namespace restriction instead of producing the pattern "/", which Hubble's server
 * rejects.
 */
public final class HubbleFlags {

    /** Filter flags that take a value. */
    public static final Set<String> VALUE_FLAGS = Set.of("uuid", "fqdn", "from-fqdn", "to-fqdn", "pod", "from-pod", "to-pod",
            "ip", "from-ip", "to-ip", "snat-ip", "ip-version", "label", "from-label", "to-label", "namespace", "from-namespace",
            "to-namespace", "service", "from-service", "to-service", "port", "from-port", "to-port", "trace-id", "verdict",
            "drop-reason-desc", "http-status", "http-method", "http-path", "http-url", "http-header", "type", "protocol",
            "workload", "from-workload", "to-workload", "identity", "from-identity", "to-identity", "node-name", "node-label",
            "cluster", "tcp-flags", "traffic-direction", "cel-expression", "interface", "from-cluster", "to-cluster", "ip-trace-id");

    /** Filter flags without a value. */
    public static final Set<String> SWITCH_FLAGS = Set.of("ipv4", "ipv6", "all-namespaces", "from-all-namespaces", "to-all-namespaces",
            "encrypted", "unencrypted");

    /** Groups of flags that cannot be combined (the hubble CLI's table; a group of one may be repeated). */
    private static final List<List<String>> CONFLICTS = List.of(
            List.of("from-fqdn", "from-ip", "ip", "fqdn", "from-namespace", "namespace", "from-all-namespaces", "all-namespaces"),
            List.of("from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"),
            List.of("to-fqdn", "to-ip", "ip", "fqdn", "to-namespace", "namespace", "to-all-namespaces", "all-namespaces"),
            List.of("to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"),
            List.of("to-pod", "namespace", "all-namespaces"),
            List.of("from-pod", "namespace", "all-namespaces"),
            List.of("to-service", "namespace", "all-namespaces"),
            List.of("from-service", "namespace", "all-namespaces"),
            List.of("label", "from-label"), List.of("label", "to-label"),
            List.of("service", "from-service"), List.of("service", "to-service"),
            List.of("port", "to-port"), List.of("port", "from-port"),
            List.of("identity", "to-identity"), List.of("identity", "from-identity"),
            List.of("workload", "to-workload"), List.of("workload", "from-workload"));

    /** Cilium's reserved identities by name ({@code --identity world}). */
    private static final Map<String, Integer> RESERVED_IDENTITIES = Map.of("host", 1, "world", 2, "unmanaged", 3, "health", 4,
            "init", 5, "remote-node", 6, "kube-apiserver", 7, "ingress", 8, "world-ipv4", 9, "world-ipv6", 10);

    /** Cilium monitor message types by name ({@code --type}). */
    private static final Map<String, Integer> MESSAGE_TYPES = Map.of("drop", 1, "debug", 2, "capture", 3, "trace", 4,
            "policy-verdict", 5, "recorder", 6, "trace-sock", 7, "l7", 129, "agent", 130);

    /** Trace observation points by name ({@code --type trace:to-endpoint}). */
    private static final List<String> TRACE_POINTS = List.of("to-endpoint", "to-proxy", "to-host", "to-stack", "to-overlay",
            "from-endpoint", "from-proxy", "from-host", "from-stack", "from-overlay", "from-network", "to-network", "from-crypto",
            "to-crypto");

    /** Agent event sub types by name ({@code --type agent:policy-updated}). */
    private static final List<String> AGENT_EVENTS = List.of("unspecified", "message", "agent-started", "policy-updated",
            "policy-deleted", "endpoint-regenerate-success", "endpoint-regenerate-failure", "endpoint-created", "endpoint-deleted",
            "ipcache-upserted", "ipcache-deleted", "service-upserted", "service-deleted");

    private static final class Tracker {
        FlowFilter.Builder left, right;
        final List<String> ns = new ArrayList<>(), srcNs = new ArrayList<>(), dstNs = new ArrayList<>();
        final Set<String> changed = new LinkedHashSet<>();

        void both(Consumer<FlowFilter.Builder> f) {
            left(f);
            right(f);
        }

        void left(Consumer<FlowFilter.Builder> f) {
            if (left == null) left = FlowFilter.newBuilder();
            f.accept(left);
        }

        void right(Consumer<FlowFilter.Builder> f) {
            if (right == null) right = FlowFilter.newBuilder();
            f.accept(right);
        }

        List<FlowFilter> filters() {
            if (left == null && right == null && ns.isEmpty() && srcNs.isEmpty() && dstNs.isEmpty()) return List.of();
            FlowFilter.Builder l = left == null ? FlowFilter.newBuilder() : left.clone();
            FlowFilter.Builder r = right == null ? FlowFilter.newBuilder() : right.clone();
            if (!dstNs.isEmpty()) {
                applyDestination(l, dstNs);
                applyDestination(r, dstNs);
            }
            if (!srcNs.isEmpty()) {
                applySource(l, srcNs);
                applySource(r, srcNs);
            }
            if (!ns.isEmpty()) {
                applySource(l, ns);
                applyDestination(r, ns);
            }
            FlowFilter lf = l.build(), rf = r.build();
            return lf.equals(rf) ? List.of(lf) : List.of(lf, rf);
        }
    }

    private final Tracker white = new Tracker(), black = new Tracker();
    private boolean negate;

    /** Translates flags given in command-line order: pairs of (name, value), value null for a switch or "not". */
    public static HubbleFlags of(List<Map.Entry<String, String>> flags) {
        HubbleFlags h = new HubbleFlags();
        for (Map.Entry<String, String> e : flags) {
            if (e.getKey().equals("not")) h.not();
            else h.set(e.getKey(), e.getValue());
        }
        return h.done();
    }

    /** Whether {@code name} (without dashes) is one of the filter flags. */
    public static boolean isFilterFlag(String name) {
        return VALUE_FLAGS.contains(name) || SWITCH_FLAGS.contains(name) || name.equals("not");
    }

    /** {@code --not}: the next filter flag goes to the blacklist. */
    public HubbleFlags not() {
        if (negate) throw new InvalidFilterException("not", "", "consecutive --not statements");
        negate = true;
        return this;
    }

    /** Checks that no {@code --not} is left without the flag it negates. */
    public HubbleFlags done() {
        if (negate) throw new InvalidFilterException("not", "", "--not must be followed by a filter flag");
        return this;
    }

    public List<FlowFilter> whitelist() {
        return white.filters();
    }

    public List<FlowFilter> blacklist() {
        return black.filters();
    }

    /** One filter flag; {@code value} is ignored for switches. */
    public HubbleFlags set(String name, String value) {
        if (!isFilterFlag(name) || name.equals("not")) throw new InvalidFilterException(name, value == null ? "" : value, "not a filter flag");
        if (VALUE_FLAGS.contains(name) && value == null) throw new InvalidFilterException(name, "", "needs a value");
        Tracker t = negate ? black : white;
        negate = false;
        t.changed.add(name);
        checkConflicts(t);
        String v = value == null ? "" : value;
        switch (name) {
            case "uuid" -> t.both(b -> b.addUuid(v));
            case "fqdn" -> {
                t.left(b -> b.addSourceFqdn(v));
                t.right(b -> b.addDestinationFqdn(v));
            }
            case "from-fqdn" -> t.both(b -> b.addSourceFqdn(v));
            case "to-fqdn" -> t.both(b -> b.addDestinationFqdn(v));
            case "pod" -> {
                t.left(b -> b.addSourcePod(v));
                t.right(b -> b.addDestinationPod(v));
            }
            case "from-pod" -> t.both(b -> b.addSourcePod(v));
            case "to-pod" -> t.both(b -> b.addDestinationPod(v));
            case "ip" -> {
                t.left(b -> b.addSourceIp(v));
                t.right(b -> b.addDestinationIp(v));
            }
            case "from-ip" -> t.both(b -> b.addSourceIp(v));
            case "to-ip" -> t.both(b -> b.addDestinationIp(v));
            case "snat-ip" -> t.both(b -> b.addSourceIpXlated(v));
            case "ipv4" -> t.both(b -> b.addIpVersion(IPVersion.IPv4));
            case "ipv6" -> t.both(b -> b.addIpVersion(IPVersion.IPv6));
            case "ip-version" -> {
                IPVersion iv = switch (v.toLowerCase(Locale.ROOT)) {
                    case "4", "v4", "ipv4", "ip4" -> IPVersion.IPv4;
                    case "6", "v6", "ipv6", "ip6" -> IPVersion.IPv6;
                    default -> IPVersion.IP_NOT_USED;
                };
                t.both(b -> b.addIpVersion(iv));
            }
            case "label" -> {
                t.left(b -> b.addSourceLabel(v));
                t.right(b -> b.addDestinationLabel(v));
            }
            case "from-label" -> t.both(b -> b.addSourceLabel(v));
            case "to-label" -> t.both(b -> b.addDestinationLabel(v));
            case "namespace" -> t.ns.add(namespace(name, v));
            case "from-namespace" -> t.srcNs.add(namespace(name, v));
            case "to-namespace" -> t.dstNs.add(namespace(name, v));
            case "all-namespaces" -> t.ns.add("");
            case "from-all-namespaces" -> t.srcNs.add("");
            case "to-all-namespaces" -> t.dstNs.add("");
            case "service" -> {
                t.left(b -> b.addSourceService(v));
                t.right(b -> b.addDestinationService(v));
            }
            case "from-service" -> t.both(b -> b.addSourceService(v));
            case "to-service" -> t.both(b -> b.addDestinationService(v));
            case "port" -> {
                t.left(b -> b.addSourcePort(v));
                t.right(b -> b.addDestinationPort(v));
            }
            case "from-port" -> t.both(b -> b.addSourcePort(v));
            case "to-port" -> t.both(b -> b.addDestinationPort(v));
            case "trace-id" -> t.both(b -> b.addTraceId(v));
            case "verdict" -> {
                Verdict x = enumValue(name, v, Verdict.class);
                t.both(b -> b.addVerdict(x));
            }
            case "drop-reason-desc" -> {
                if (v.isEmpty()) throw new InvalidFilterException(name, v, "empty --drop-reason-desc value");
                DropReason x = enumValue(name, v, DropReason.class);
                t.both(b -> b.addDropReasonDesc(x));
            }
            case "http-status" -> t.both(b -> b.addHttpStatusCode(v));
            case "http-method" -> t.both(b -> b.addHttpMethod(v));
            case "http-path" -> t.both(b -> b.addHttpPath(v));
            case "http-url" -> t.both(b -> b.addHttpUrl(v));
            case "http-header" -> {
                int colon = v.indexOf(':');
                if (colon < 0) throw new InvalidFilterException(name, v, "expected name:value");
                HTTPHeader h = HTTPHeader.newBuilder().setKey(v.substring(0, colon)).setValue(v.substring(colon + 1)).build();
                t.both(b -> b.addHttpHeader(h));
            }
            case "type" -> {
                EventTypeFilter et = eventType(v);
                t.both(b -> b.addEventType(et));
            }
            case "protocol" -> t.both(b -> b.addProtocol(v));
            case "workload" -> {
                Workload w = workload(v);
                t.left(b -> b.addSourceWorkload(w));
                t.right(b -> b.addDestinationWorkload(w));
            }
            case "from-workload" -> t.both(b -> b.addSourceWorkload(workload(v)));
            case "to-workload" -> t.both(b -> b.addDestinationWorkload(workload(v)));
            case "identity" -> {
                int id = identity(name, v);
                t.left(b -> b.addSourceIdentity(id));
                t.right(b -> b.addDestinationIdentity(id));
            }
            case "from-identity" -> t.both(b -> b.addSourceIdentity(identity(name, v)));
            case "to-identity" -> t.both(b -> b.addDestinationIdentity(identity(name, v)));
            case "node-name" -> t.both(b -> b.addNodeName(v));
            case "node-label" -> t.both(b -> b.addNodeLabels(v));
            case "cluster" -> { // hubble 1.19: the endpoints' cluster on either side (older hubble: node names "v/")
                t.left(b -> b.addSourceClusterName(v));
                t.right(b -> b.addDestinationClusterName(v));
            }
            case "tcp-flags" -> {
                TCPFlags fl = tcpFlags(v);
                t.both(b -> b.addTcpFlags(fl));
            }
            case "traffic-direction" -> {
                TrafficDirection d = switch (v.toLowerCase(Locale.ROOT)) {
                    case "ingress" -> TrafficDirection.INGRESS;
                    case "egress" -> TrafficDirection.EGRESS;
                    default -> throw new InvalidFilterException(name, v, "invalid traffic direction, expected ingress or egress");
                };
                t.both(b -> b.addTrafficDirection(d));
            }
            case "cel-expression" -> t.both(b -> b.getExperimentalBuilder().addCelExpression(v));
            case "interface" -> t.both(b -> b.addInterface(NetworkInterface.newBuilder().setName(v)));
            case "from-cluster" -> t.both(b -> b.addSourceClusterName(v));
            case "to-cluster" -> t.both(b -> b.addDestinationClusterName(v));
            case "ip-trace-id" -> {
                long id;
                try {
                    id = Long.parseUnsignedLong(v.trim());
                } catch (NumberFormatException e) {
                    throw new InvalidFilterException(name, v, "invalid --ip-trace-id value: expected an unsigned 64-bit number");
                }
                t.both(b -> b.addIpTraceId(id));
            }
            case "encrypted" -> t.both(b -> b.addEncrypted(true));
            case "unencrypted" -> t.both(b -> b.addEncrypted(false));
            default -> throw new IllegalStateException(name);
        }
        checkNamespaceConflicts(t);
        return this;
    }

    private static String namespace(String flag, String v) {
        if (v.isEmpty() || v.contains("/")) throw new InvalidFilterException(flag, v, "expected a namespace name");
        return v;
    }

    private static void checkConflicts(Tracker t) {
        for (List<String> group : CONFLICTS) {
            for (String flag : group) {
                if (!t.changed.contains(flag)) continue;
                for (String other : group) {
                    if (!other.equals(flag) && t.changed.contains(other)) {
                        throw new InvalidFilterException(flag, "", "filters --" + flag + " and --" + other + " cannot be combined");
                    }
                }
            }
        }
    }

    /** A pod or service that names a namespace other than the one --namespace asks for cannot match. */
    private static void checkNamespaceConflicts(Tracker t) {
        for (FlowFilter.Builder b : new FlowFilter.Builder[] {t.left, t.right}) {
            if (b == null) continue;
            conflicts(t.ns, b.getSourcePodList());
            conflicts(t.ns, b.getSourceServiceList());
            conflicts(t.ns, b.getDestinationPodList());
            conflicts(t.ns, b.getDestinationServiceList());
            conflicts(t.srcNs, b.getSourcePodList());
            conflicts(t.srcNs, b.getSourceServiceList());
            conflicts(t.dstNs, b.getDestinationPodList());
            conflicts(t.dstNs, b.getDestinationServiceList());
        }
    }

    private static void conflicts(List<String> namespaces, List<String> names) {
        for (String ns : namespaces) {
            for (String name : names) {
                String nn = namespaceOf(name);
                if (!nn.isEmpty() && !ns.isEmpty() && !nn.equals(ns)) {
                    throw new InvalidFilterException("namespace", ns, "namespace conflict: \"" + ns + "\" does not contain \"" + name + "\"");
                }
            }
        }
    }

    private static String namespaceOf(String name) {
        int slash = name.indexOf('/');
        return slash < 0 ? "" : name.substring(0, slash);
    }

    private static void applySource(FlowFilter.Builder b, List<String> namespaces) {
        List<String> pods = b.getSourcePodCount() == 0 && b.getSourceServiceCount() == 0 ? List.of("") : b.getSourcePodList();
        List<String> services = b.getSourceServiceList();
        b.clearSourcePod().addAllSourcePod(withNamespaces(pods, namespaces));
        b.clearSourceService().addAllSourceService(withNamespaces(services, namespaces));
    }

    private static void applyDestination(FlowFilter.Builder b, List<String> namespaces) {
        List<String> pods = b.getDestinationPodCount() == 0 && b.getDestinationServiceCount() == 0 ? List.of("") : b.getDestinationPodList();
        List<String> services = b.getDestinationServiceList();
        b.clearDestinationPod().addAllDestinationPod(withNamespaces(pods, namespaces));
        b.clearDestinationService().addAllDestinationService(withNamespaces(services, namespaces));
    }

    /** Prefixes each name without a namespace with each namespace; the "all namespaces" namespace ("") keeps no restriction. */
    private static List<String> withNamespaces(List<String> names, List<String> namespaces) {
        List<String> out = new ArrayList<>();
        for (String n : List.copyOf(names)) {
            if (n.contains("/")) {
                out.add(n);
                continue;
            }
            for (String ns : namespaces) {
                if (ns.isEmpty()) {
                    if (!n.isEmpty()) out.add(n); // any namespace: hubble gives "/name", a filter on the empty namespace
                    continue;
                }
                out.add(ns + "/" + n);
            }
        }
        return out;
    }

    private static <E extends Enum<E>> E enumValue(String flag, String v, Class<E> type) {
        String want = v.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(want) && !want.equals("UNRECOGNIZED")) return e;
        }
        throw new InvalidFilterException(flag, v, "invalid --" + flag + " value");
    }

    private static int identity(String flag, String v) {
        Integer reserved = RESERVED_IDENTITIES.get(v);
        if (reserved != null) return reserved;
        try {
            long id = Long.parseLong(v.trim());
            if (id >= 0 && id <= 0xffffffffL) return (int) id;
        } catch (NumberFormatException e) {
            // below
        }
        throw new InvalidFilterException(flag, v, "invalid security identity, expected one of " + RESERVED_IDENTITIES.keySet().stream().sorted().toList()
                + " or a numeric value");
    }

    private static Workload workload(String v) {
        int slash = v.indexOf('/');
        return slash < 0 ? Workload.newBuilder().setName(v).build()
                : Workload.newBuilder().setKind(v.substring(0, slash)).setName(v.substring(slash + 1)).build();
    }

    private static TCPFlags tcpFlags(String v) {
        TCPFlags.Builder b = TCPFlags.newBuilder();
        for (String f : v.split(",")) {
            switch (f.toUpperCase(Locale.ROOT)) {
                case "SYN" -> b.setSYN(true);
                case "FIN" -> b.setFIN(true);
                case "RST" -> b.setRST(true);
                case "PSH" -> b.setPSH(true);
                case "ACK" -> b.setACK(true);
                case "URG" -> b.setURG(true);
                case "ECE" -> b.setECE(true);
                case "CWR" -> b.setCWR(true);
                case "NS" -> b.setNS(true);
                default -> throw new InvalidFilterException("tcp-flags", v, "unknown tcp flag: " + f);
            }
        }
        return b.build();
    }

    /** {@code --type}: a type name or number, optionally {@code :sub-type} (a name for trace and agent events, or a number). */
    static EventTypeFilter eventType(String v) {
        String[] s = v.split(":", 2);
        Integer type = MESSAGE_TYPES.get(s[0]);
        if (type == null) {
            try {
                type = Integer.parseUnsignedInt(s[0]);
            } catch (NumberFormatException e) {
                throw new InvalidFilterException("type", v, "not a known type name (" + String.join(", ", MESSAGE_TYPES.keySet().stream().sorted().toList())
                        + ") and not a number");
            }
        }
        EventTypeFilter.Builder b = EventTypeFilter.newBuilder().setType(type);
        if (s.length > 1) {
            int sub = type == 4 ? TRACE_POINTS.indexOf(s[1]) : type == 130 ? AGENT_EVENTS.indexOf(s[1]) : -1;
            if (sub < 0) {
                try {
                    sub = Integer.parseUnsignedInt(s[1]);
                } catch (NumberFormatException e) {
                    throw new InvalidFilterException("type", v, "not a known sub-type name and not a number");
                }
            }
            b.setMatchSubType(true).setSubType(sub);
        }
        return b.build();
    }
}
