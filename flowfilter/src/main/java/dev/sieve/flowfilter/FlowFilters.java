package dev.sieve.flowfilter;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.NetworkInterface;
import dev.sieve.api.flow.Service;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Hubble's FlowFilter semantics (cilium/cilium {@code pkg/hubble/filters}), compiled once into predicates; the
 * one implementation used by the node's Observer, the relay's stores, the CLI and the REST API. A flow passes
 * when it matches any whitelist filter (or the whitelist is empty) and no blacklist filter. Within one
 * FlowFilter every field that is set must match (AND); within one field any of its values may match (OR). Bad
 * values (an invalid CIDR, selector, port, regular expression, ...) throw {@link InvalidFilterException}.
 *
 * <p>Field semantics, as Hubble's server implements them:
 * <ul>
 *   <li>{@code source_pod}/{@code destination_pod}, {@code *_service}: see {@link NamespacedName} ({@code "ns/"}
 *       every pod of ns, {@code "ns/prefix"}, and {@code "prefix"} alone in the {@code default} namespace);</li>
 *   <li>{@code source_ip}/{@code destination_ip}/{@code source_ip_xlated}: an address or a CIDR;</li>
 *   <li>{@code *_label}/{@code node_labels}: Kubernetes selector strings (see {@link LabelSelectorExpr});</li>
 *   <li>{@code protocol}: tcp, udp, sctp, icmp (v4 or v6), icmpv4, icmpv6, http, dns, kafka (any case);</li>
 *   <li>{@code source_port}/{@code destination_port}: a port 0-65535 of TCP, UDP or SCTP;</li>
 *   <li>{@code event_type}: Cilium monitor type, and sub type when {@code match_sub_type};</li>
 *   <li>{@code node_name}: {@code cluster/node} patterns with {@code *} wildcards (not crossing '/'); a
 *       pattern without '/' matches the node part in any cluster;</li>
 *   <li>{@code source_fqdn}/{@code destination_fqdn}: DNS names with {@code *} wildcards;</li>
 *   <li>{@code http_status_code}: {@code 404}, {@code 4+} or {@code 40+}; {@code http_method} any case;
 *       {@code http_path}/{@code http_url}/{@code dns_query}: RE2 regular expressions, unanchored (Go's
 *       {@code MatchString}); the HTTP fields need an event-type filter that is empty or includes L7 (129).</li>
 * </ul>
 */
public final class FlowFilters {

    /** Cilium's monitor message type of L7 (access log) events. */
    public static final int MESSAGE_TYPE_ACCESS_LOG = 129;

    private FlowFilters() {}

    /** The predicate for a whitelist and a blacklist. */
    public static Predicate<Flow> compile(List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
        @SuppressWarnings("unchecked") Predicate<Flow>[] w = whitelist.stream().map(FlowFilters::compile).toArray(Predicate[]::new);
        @SuppressWarnings("unchecked") Predicate<Flow>[] b = blacklist.stream().map(FlowFilters::compile).toArray(Predicate[]::new);
        if (w.length == 0 && b.length == 0) return f -> true;
        return flow -> {
            if (w.length > 0 && !any(w, flow)) return false;
            return !any(b, flow);
        };
    }

    private static boolean any(Predicate<Flow>[] ps, Flow flow) {
        for (Predicate<Flow> p : ps) {
            if (p.test(flow)) return true;
        }
        return false;
    }

    /** Throws {@link InvalidFilterException} when a filter of the list has a value that cannot be understood. */
    public static void validate(List<FlowFilter> filters) {
        for (FlowFilter f : filters) compile(f);
    }

    /** One FlowFilter: the AND of its set fields. An empty filter matches every flow. */
    public static Predicate<Flow> compile(FlowFilter f) {
        List<Predicate<Flow>> all = new ArrayList<>();
        if (f.getUuidCount() > 0) {
            Set<String> ids = Set.copyOf(f.getUuidList());
            all.add(fl -> ids.contains(fl.getUuid()));
        }
        strings(all, ipMatcher("source_ip", f.getSourceIpList()), fl -> fl.getIP().getSource());
        strings(all, ipMatcher("source_ip_xlated", f.getSourceIpXlatedList()), fl -> fl.getIP().getSourceXlated());
        strings(all, ipMatcher("destination_ip", f.getDestinationIpList()), fl -> fl.getIP().getDestination());
        names(all, NamespacedName.parseAll("source_pod", f.getSourcePodList()), fl -> fl.getSource().getNamespace(),
                fl -> fl.getSource().getPodName());
        names(all, NamespacedName.parseAll("destination_pod", f.getDestinationPodList()),
                fl -> fl.getDestination().getNamespace(), fl -> fl.getDestination().getPodName());
        fqdns(all, "source_fqdn", f.getSourceFqdnList(), Flow::getSourceNamesList);
        fqdns(all, "destination_fqdn", f.getDestinationFqdnList(), Flow::getDestinationNamesList);
        lists(all, labelMatcher("source_label", f.getSourceLabelList()), fl -> fl.getSource().getLabelsList());
        lists(all, labelMatcher("destination_label", f.getDestinationLabelList()), fl -> fl.getDestination().getLabelsList());
        lists(all, labelMatcher("node_labels", f.getNodeLabelsList()), Flow::getNodeLabelsList);
        names(all, NamespacedName.parseAll("source_service", f.getSourceServiceList()), fl -> service(fl.getSourceService(), true),
                fl -> service(fl.getSourceService(), false));
        names(all, NamespacedName.parseAll("destination_service", f.getDestinationServiceList()),
                fl -> service(fl.getDestinationService(), true), fl -> service(fl.getDestinationService(), false));
        workloads(all, f.getSourceWorkloadList(), Flow::getSource);
        workloads(all, f.getDestinationWorkloadList(), Flow::getDestination);
        if (f.getSourceClusterNameCount() > 0) {
            Set<String> s = Set.copyOf(f.getSourceClusterNameList());
            all.add(fl -> s.contains(fl.getSource().getClusterName()));
        }
        if (f.getDestinationClusterNameCount() > 0) {
            Set<String> s = Set.copyOf(f.getDestinationClusterNameList());
            all.add(fl -> s.contains(fl.getDestination().getClusterName()));
        }
        if (f.getTrafficDirectionCount() > 0) {
            EnumSet<TrafficDirection> s = enums(TrafficDirection.class, "traffic_direction", f.getTrafficDirectionList());
            all.add(fl -> s.contains(fl.getTrafficDirection()));
        }
        if (f.getVerdictCount() > 0) {
            EnumSet<Verdict> s = enums(Verdict.class, "verdict", f.getVerdictList());
            all.add(fl -> s.contains(fl.getVerdict()));
        }
        if (f.getDropReasonDescCount() > 0) {
            EnumSet<DropReason> s = enums(DropReason.class, "drop_reason_desc", f.getDropReasonDescList());
            all.add(fl -> s.contains(fl.getDropReasonDesc()));
        }
        if (f.getInterfaceCount() > 0) {
            List<NetworkInterface> ifs = List.copyOf(f.getInterfaceList());
            all.add(fl -> {
                if (!fl.hasInterface()) return false;
                for (NetworkInterface i : ifs) {
                    if ((i.getIndex() == 0 || i.getIndex() == fl.getInterface().getIndex())
                            && (i.getName().isEmpty() || i.getName().equals(fl.getInterface().getName()))) return true;
                }
                return false;
            });
        }
        if (f.getEventTypeCount() > 0) {
            List<EventTypeFilter> ets = List.copyOf(f.getEventTypeList());
            all.add(fl -> {
                if (!fl.hasEventType()) return false;
                int t = fl.getEventType().getType(), st = fl.getEventType().getSubType();
                for (EventTypeFilter e : ets) {
                    if (e.getType() == t && (!e.getMatchSubType() || e.getSubType() == st)) return true;
                }
                return false;
            });
        }
        http(all, f);
        if (f.getProtocolCount() > 0) {
            int m = protocolMask(f.getProtocolList());
            all.add(fl -> (protocolsOf(fl) & m) != 0);
        }
        ports(all, "source_port", f.getSourcePortList(), true);
        ports(all, "destination_port", f.getDestinationPortList(), false);
        if (f.getReplyCount() > 0) {
            Set<Boolean> s = Set.copyOf(f.getReplyList());
            all.add(fl -> fl.hasIsReply() && s.contains(fl.getIsReply().getValue()));
        }
        if (f.getDnsQueryCount() > 0) {
            List<Pattern> ps = regexes("dns_query", f.getDnsQueryList());
            all.add(fl -> fl.getL7().hasDns() && anyFind(ps, fl.getL7().getDns().getQuery()));
        }
        if (f.getSourceIdentityCount() > 0) {
            Set<Integer> s = Set.copyOf(f.getSourceIdentityList());
            all.add(fl -> s.contains(fl.getSource().getIdentity()));
        }
        if (f.getDestinationIdentityCount() > 0) {
            Set<Integer> s = Set.copyOf(f.getDestinationIdentityList());
            all.add(fl -> s.contains(fl.getDestination().getIdentity()));
        }
        if (f.getTcpFlagsCount() > 0) {
            List<TCPFlags> fs = List.copyOf(f.getTcpFlagsList());
            all.add(fl -> {
                if (!fl.getL4().hasTCP() || !fl.getL4().getTCP().hasFlags()) return false;
                TCPFlags have = fl.getL4().getTCP().getFlags();
                for (TCPFlags want : fs) {
                    if (contains(have, want)) return true;
                }
                return false;
            });
        }
        strings(all, nodeNameMatcher(f.getNodeNameList()), Flow::getNodeName);
        if (f.getIpVersionCount() > 0) {
            EnumSet<IPVersion> s = enums(IPVersion.class, "ip_version", f.getIpVersionList());
            all.add(fl -> fl.hasIP() && s.contains(fl.getIP().getIpVersion()));
        }
        if (f.getTraceIdCount() > 0) {
            Set<String> s = Set.copyOf(f.getTraceIdList());
            all.add(fl -> s.contains(fl.getTraceContext().getParent().getTraceId()));
        }
        if (f.getIpTraceIdCount() > 0) {
            Set<Long> s = Set.copyOf(f.getIpTraceIdList());
            all.add(fl -> fl.hasIpTraceId() && s.contains(fl.getIpTraceId().getTraceId()));
        }
        if (f.getEncryptedCount() > 0) {
            Set<Boolean> s = Set.copyOf(f.getEncryptedList());
            all.add(fl -> s.contains(fl.getIP().getEncrypted()));
        }
        if (f.hasExperimental() && f.getExperimental().getCelExpressionCount() > 0) {
            throw new InvalidFilterException("experimental.cel_expression", f.getExperimental().getCelExpression(0),
                    "CEL expressions are not supported");
        }
        return and(all);
    }

    private static Predicate<Flow> and(List<Predicate<Flow>> all) {
        if (all.isEmpty()) return fl -> true;
        if (all.size() == 1) return all.getFirst();
        @SuppressWarnings("unchecked") Predicate<Flow>[] ps = all.toArray(new Predicate[0]);
        return fl -> {
            for (Predicate<Flow> p : ps) {
                if (!p.test(fl)) return false;
            }
            return true;
        };
    }

    // ---- value matchers: what a flow predicate tests on one field, also used by stores on their columns ----

    /** Addresses or CIDRs of an IP field, as a test of one address string ("" never matches); null if none given. */
    public static Predicate<String> ipMatcher(String field, List<String> values) {
        if (values.isEmpty()) return null;
        IpMatcher[] ms = values.stream().map(v -> IpMatcher.parse(field, v)).toArray(IpMatcher[]::new);
        return ip -> {
            if (ip.isEmpty()) return false;
            for (IpMatcher m : ms) {
                if (m.matches(ip)) return true;
            }
            return false;
        };
    }

    /** Label selectors of a label field, as a test of one label list; null if none given. */
    public static Predicate<List<String>> labelMatcher(String field, List<String> values) {
        if (values.isEmpty()) return null;
        LabelSelectorExpr[] sels = values.stream().map(v -> LabelSelectorExpr.parse(field, v)).toArray(LabelSelectorExpr[]::new);
        return labels -> {
            for (LabelSelectorExpr s : sels) {
                if (s.matches(labels)) return true;
            }
            return false;
        };
    }

    /**
     * {@code node_name} patterns as a test of one node name (Hubble's {@code compileNodeNamePattern}): a pattern is
     * {@code cluster/node} or {@code node} (any cluster), each part an FQDN pattern whose {@code *} matches within
     * the part, an empty part matching any name; a flow's node name without '/' is in cluster "default", an empty
     * one never matches. Null if none given.
     */
    public static Predicate<String> nodeNameMatcher(List<String> values) {
        if (values.isEmpty()) return null;
        StringBuilder re = new StringBuilder("(?:");
        for (String v : values) {
            if (re.length() > 3) re.append('|');
            if (v.isEmpty()) throw new InvalidFilterException("node_name", v, "empty pattern");
            String[] parts = v.split("/", -1);
            if (parts.length > 2) throw new InvalidFilterException("node_name", v, "too many slashes in pattern");
            String cluster = parts.length == 2 ? parts[0] : "", node = parts[parts.length - 1];
            re.append(cluster.isEmpty() ? ANY_FQDN : fqdnPattern("node_name", v, cluster)).append('/')
                    .append(node.isEmpty() ? ANY_FQDN : fqdnPattern("node_name", v, node));
        }
        Pattern p = Pattern.compile(re.append(')').toString());
        return name -> {
            if (name.isEmpty()) return false;
            return p.matcher(name.indexOf('/') < 0 ? "default/" + name : name).matches();
        };
    }

    private static final String ANY_FQDN = "(?:[-0-9_a-z]+(?:\\.[-0-9_a-z]+)*)";

    /** An FQDN pattern as a regular expression: trimmed, one trailing dot dropped, lower case, {@code *} within names. */
    private static String fqdnPattern(String field, String value, String pattern) {
        String t = pattern.trim();
        if (t.endsWith(".")) t = t.substring(0, t.length() - 1);
        t = t.toLowerCase(Locale.ROOT);
        if (t.isEmpty()) throw new InvalidFilterException(field, value, "empty pattern");
        if (t.endsWith(".")) throw new InvalidFilterException(field, value, "multiple trailing dots in pattern");
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '.') re.append("\\.");
            else if (c == '*') re.append("[-.0-9a-z]*");
            else if (c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) re.append(c);
            else throw new InvalidFilterException(field, value, "invalid character '" + c + "' in pattern");
        }
        return re.toString();
    }

    /** A {@code source_port}/{@code destination_port} value. */
    public static int port(String field, String value) {
        String v = value.trim();
        int p;
        try {
            p = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new InvalidFilterException(field, value, "not a port number");
        }
        if (p < 0 || p > 65535) throw new InvalidFilterException(field, value, "port must be within 0-65535");
        return p;
    }

    /** The port of a flow's TCP, UDP or SCTP header, -1 when it has none. */
    public static int port(Flow f, boolean source) {
        Layer4 l4 = f.getL4();
        return switch (l4.getProtocolCase()) {
            case TCP -> source ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort();
            case UDP -> source ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort();
            case SCTP -> source ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort();
            default -> -1;
        };
    }

    /** Bits of {@link #protocolMask}: one per L4 protocol, one per L7 record. */
    public static final int P_TCP = 1, P_UDP = 2, P_SCTP = 4, P_ICMP4 = 8, P_ICMP6 = 16, P_HTTP = 32, P_DNS = 64, P_KAFKA = 128;

    /** All L4 bits: a mask within it is decided by the L4 header alone. */
    public static final int P_L4 = P_TCP | P_UDP | P_SCTP | P_ICMP4 | P_ICMP6;

    /** The {@code protocol} values as a mask of P_* bits (icmp = both ICMP versions). */
    public static int protocolMask(List<String> values) {
        int mask = 0;
        for (String v : values) {
            mask |= switch (v.trim().toLowerCase(Locale.ROOT)) {
                case "tcp" -> P_TCP;
                case "udp" -> P_UDP;
                case "sctp" -> P_SCTP;
                case "icmp" -> P_ICMP4 | P_ICMP6;
                case "icmpv4" -> P_ICMP4;
                case "icmpv6" -> P_ICMP6;
                case "http" -> P_HTTP;
                case "dns" -> P_DNS;
                case "kafka" -> P_KAFKA;
                default -> throw new InvalidFilterException("protocol", v,
                        "unknown protocol (expected tcp, udp, sctp, icmp, icmpv4, icmpv6, http, dns or kafka)");
            };
        }
        return mask;
    }

    /** The P_* bit of a flow's L4 header (0 when it has none). */
    public static int l4ProtocolOf(Flow fl) {
        return switch (fl.getL4().getProtocolCase()) {
            case TCP -> P_TCP;
            case UDP -> P_UDP;
            case SCTP -> P_SCTP;
            case ICMPV4 -> P_ICMP4;
            case ICMPV6 -> P_ICMP6;
            case PROTOCOL_NOT_SET -> 0;
        };
    }

    /** The P_* bits of a flow: its L4 header and its L7 record. */
    public static int protocolsOf(Flow fl) {
        int have = l4ProtocolOf(fl);
        if (fl.hasL7()) {
            have |= switch (fl.getL7().getRecordCase()) {
                case HTTP -> P_HTTP;
                case DNS -> P_DNS;
                case KAFKA -> P_KAFKA;
                case RECORD_NOT_SET -> 0;
            };
        }
        return have;
    }

    // ---- field predicates ----

    private static void strings(List<Predicate<Flow>> all, Predicate<String> m, Function<Flow, String> get) {
        if (m != null) all.add(fl -> m.test(get.apply(fl)));
    }

    private static void lists(List<Predicate<Flow>> all, Predicate<List<String>> m, Function<Flow, List<String>> get) {
        if (m != null) all.add(fl -> m.test(get.apply(fl)));
    }

    private static void names(List<Predicate<Flow>> all, NamespacedName[] ns, Function<Flow, String> namespace, Function<Flow, String> name) {
        if (ns.length == 0) return;
        all.add(fl -> NamespacedName.anyMatches(ns, namespace.apply(fl), name.apply(fl)));
    }

    private static String service(Service s, boolean namespace) {
        return namespace ? s.getNamespace() : s.getName();
    }

    private static <E extends Enum<E>> EnumSet<E> enums(Class<E> type, String field, List<E> values) {
        EnumSet<E> s = EnumSet.noneOf(type);
        for (E v : values) {
            if (v.name().equals("UNRECOGNIZED")) throw new InvalidFilterException(field, "?", "unknown enum number");
            s.add(v);
        }
        return s;
    }

    private static void workloads(List<Predicate<Flow>> all, List<Workload> values, Function<Flow, Endpoint> ep) {
        if (values.isEmpty()) return;
        List<Workload> want = List.copyOf(values);
        all.add(fl -> {
            for (Workload have : ep.apply(fl).getWorkloadsList()) {
                for (Workload w : want) {
                    if ((w.getName().isEmpty() || w.getName().equals(have.getName()))
                            && (w.getKind().isEmpty() || w.getKind().equals(have.getKind()))) return true;
                }
            }
            return false;
        });
    }

    private static void fqdns(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, List<String>> names) {
        if (values.isEmpty()) return;
        StringBuilder re = new StringBuilder("(?:");
        for (String v : values) {
            if (re.length() > 3) re.append('|');
            re.append(fqdnPattern(field, v, v));
        }
        Pattern p = Pattern.compile(re.append(')').toString());
        all.add(fl -> {
            for (String n : names.apply(fl)) {
                if (p.matcher(n).matches()) return true;
            }
            return false;
        });
    }

    /** http_status_code, http_method, http_path, http_url, http_header: L7 fields, valid only with L7 event types. */
    private static void http(List<Predicate<Flow>> all, FlowFilter f) {
        boolean any = f.getHttpStatusCodeCount() > 0 || f.getHttpMethodCount() > 0 || f.getHttpPathCount() > 0
                || f.getHttpUrlCount() > 0 || f.getHttpHeaderCount() > 0;
        if (!any) return;
        if (f.getEventTypeCount() > 0 && f.getEventTypeList().stream().noneMatch(t -> t.getType() == MESSAGE_TYPE_ACCESS_LOG)) {
            String field = f.getHttpStatusCodeCount() > 0 ? "http_status_code" : f.getHttpMethodCount() > 0 ? "http_method"
                    : f.getHttpPathCount() > 0 ? "http_path" : f.getHttpUrlCount() > 0 ? "http_url" : "http_header";
            throw new InvalidFilterException(field, "", "filtering by HTTP fields requires the event type filter to only match 'l7' events");
        }
        if (f.getHttpStatusCodeCount() > 0) httpStatus(all, f.getHttpStatusCodeList());
        if (f.getHttpMethodCount() > 0) {
            Set<String> s = new HashSet<>();
            for (String m : f.getHttpMethodList()) s.add(m.toUpperCase(Locale.ROOT));
            all.add(fl -> fl.getL7().hasHttp() && s.contains(fl.getL7().getHttp().getMethod().toUpperCase(Locale.ROOT)));
        }
        if (f.getHttpPathCount() > 0) {
            List<Pattern> ps = regexes("http_path", f.getHttpPathList());
            all.add(fl -> {
                if (!fl.getL7().hasHttp()) return false;
                String path = requestPath(fl.getL7().getHttp().getUrl());
                return path != null && anyFind(ps, path);
            });
        }
        if (f.getHttpUrlCount() > 0) {
            List<Pattern> ps = regexes("http_url", f.getHttpUrlList());
            all.add(fl -> fl.getL7().hasHttp() && !fl.getL7().getHttp().getUrl().isEmpty() && anyFind(ps, fl.getL7().getHttp().getUrl()));
        }
        if (f.getHttpHeaderCount() > 0) {
            List<HTTPHeader> hs = List.copyOf(f.getHttpHeaderList());
            all.add(fl -> {
                if (!fl.getL7().hasHttp()) return false;
                for (HTTPHeader want : hs) {
                    for (HTTPHeader h : fl.getL7().getHttp().getHeadersList()) {
                        if (h.getKey().equalsIgnoreCase(want.getKey()) && h.getValue().equals(want.getValue())) return true;
                    }
                }
                return false;
            });
        }
    }

    private static void httpStatus(List<Predicate<Flow>> all, List<String> values) {
        // Hubble compares the code printed as %03d with each full code and prefix; for 100-999 that is arithmetic
        int[] full = new int[values.size()], prefix = new int[values.size()];
        int nf = 0, np = 0;
        for (String v : values) {
            if (v.matches("[1-5][0-9]{2}")) full[nf++] = Integer.parseInt(v);
            else if (v.matches("[1-5][0-9]?\\+")) prefix[np++] = Integer.parseInt(v.substring(0, v.length() - 1));
            else throw new InvalidFilterException("http_status_code", v, "expected a status like 404, 4+ or 40+");
        }
        int[] fs = java.util.Arrays.copyOf(full, nf), ps = java.util.Arrays.copyOf(prefix, np);
        all.add(fl -> {
            if (!fl.getL7().hasHttp()) return false;
            int code = fl.getL7().getHttp().getCode();
            if (code == 0) return false;
            for (int c : fs) {
                if (c == code) return true;
            }
            if (ps.length == 0) return false;
            String text = code >= 100 && code <= 999 ? null : String.format(Locale.ROOT, "%03d", code);
            for (int p : ps) {
                if (text == null ? (p < 10 ? code / 100 == p : code / 10 == p) : text.startsWith(Integer.toString(p))) return true;
            }
            return false;
        });
    }

    private static void ports(List<Predicate<Flow>> all, String field, List<String> values, boolean source) {
        if (values.isEmpty()) return;
        int[] ports = values.stream().mapToInt(v -> port(field, v)).toArray();
        all.add(fl -> {
            int p = port(fl, source);
            if (p < 0) return false;
            for (int x : ports) {
                if (x == p) return true;
            }
            return false;
        });
    }

    private static List<Pattern> regexes(String field, List<String> values) {
        List<Pattern> ps = new ArrayList<>();
        for (String v : values) {
            try {
                ps.add(Pattern.compile(v));
            } catch (PatternSyntaxException e) {
                throw new InvalidFilterException(field, v, "invalid regular expression: " + e.getDescription());
            }
        }
        return ps;
    }

    private static boolean anyFind(List<Pattern> ps, String s) {
        for (Pattern p : ps) {
            if (p.matcher(s).find()) return true;
        }
        return false;
    }

    /**
     * The path of a request URI as Go's {@code url.ParseRequestURI} gives it: {@code http://host/a/b?x} and
     * {@code /a/b?x} give {@code /a/b}; null for what it rejects (empty, relative, no scheme and no leading '/').
     */
    static String requestPath(String url) {
        if (url.isEmpty()) return null;
        String rest;
        if (url.startsWith("/")) {
            rest = url;
        } else {
            int scheme = url.indexOf("://");
            if (scheme <= 0 || !url.substring(0, scheme).matches("[A-Za-z][A-Za-z0-9+.-]*")) return null;
            int slash = url.indexOf('/', scheme + 3);
            if (slash < 0) return "";
            rest = url.substring(slash);
        }
        int q = rest.indexOf('?');
        if (q >= 0) rest = rest.substring(0, q);
        int hash = rest.indexOf('#');
        if (hash >= 0) rest = rest.substring(0, hash);
        return percentDecode(rest);
    }

    private static String percentDecode(String s) {
        if (s.indexOf('%') < 0) return s;
        try {
            return java.net.URLDecoder.decode(s.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static boolean contains(TCPFlags have, TCPFlags want) {
        return (!want.getFIN() || have.getFIN()) && (!want.getSYN() || have.getSYN()) && (!want.getRST() || have.getRST())
                && (!want.getPSH() || have.getPSH()) && (!want.getACK() || have.getACK()) && (!want.getURG() || have.getURG())
                && (!want.getECE() || have.getECE()) && (!want.getCWR() || have.getCWR()) && (!want.getNS() || have.getNS());
    }
}
