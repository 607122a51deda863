package dev.sieve.observer.filter;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTP;
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
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Hubble's FlowFilter semantics, compiled once into predicates. A flow passes when it matches any whitelist
 * filter (or the whitelist is empty) and no blacklist filter. Within one FlowFilter every field that is set
 * must match (AND); within one field any of its values may match (OR). Bad values (an invalid CIDR,
 * selector, port, regular expression, ...) throw {@link InvalidFilterException}.
 *
 * <p>Field semantics, as Hubble's server implements them:
 * <ul>
 *   <li>{@code source_pod}/{@code destination_pod}: {@code "ns/"} matches every pod in namespace ns,
 *       {@code "ns/prefix"} pods in ns whose name starts with prefix, {@code "prefix"} (no slash) pods whose
 *       name starts with prefix in any namespace;</li>
 *   <li>{@code source_ip}/{@code destination_ip}: an address or a CIDR;</li>
 *   <li>{@code source_label}/{@code destination_label}/{@code node_labels}: Kubernetes selector strings
 *       (see {@link LabelSelectorExpr});</li>
 *   <li>{@code protocol}: tcp, udp, sctp, icmp (v4 or v6), icmpv4, icmpv6, http, dns, kafka (any case);</li>
 *   <li>{@code source_port}/{@code destination_port}: a port 0-65535 of TCP, UDP or SCTP;</li>
 *   <li>{@code event_type}: Cilium monitor type, and sub type when {@code match_sub_type};</li>
 *   <li>{@code node_name}: {@code cluster/node} patterns with {@code *} wildcards (not crossing '/'); a
 *       pattern without '/' matches the node part in any cluster;</li>
 *   <li>{@code source_fqdn}/{@code destination_fqdn}: DNS names with {@code *} wildcards;</li>
 *   <li>{@code http_status_code}: {@code 404} or {@code 4+} (any 4xx); {@code http_method} any case;
 *       {@code http_path}/{@code http_url}/{@code dns_query}: regular expressions (unanchored).</li>
 * </ul>
 */
public final class FlowFilters {

    private FlowFilters() {}

    /** The predicate for a whitelist and a blacklist. */
    public static Predicate<Flow> compile(List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
        List<Predicate<Flow>> white = new ArrayList<>();
        for (FlowFilter f : whitelist) white.add(compile(f));
        List<Predicate<Flow>> black = new ArrayList<>();
        for (FlowFilter f : blacklist) black.add(compile(f));
        if (white.isEmpty() && black.isEmpty()) return f -> true;
        @SuppressWarnings("unchecked") Predicate<Flow>[] w = white.toArray(new Predicate[0]);
        @SuppressWarnings("unchecked") Predicate<Flow>[] b = black.toArray(new Predicate[0]);
        return flow -> {
            if (w.length > 0) {
                boolean any = false;
                for (Predicate<Flow> p : w) {
                    if (p.test(flow)) {
                        any = true;
                        break;
                    }
                }
                if (!any) return false;
            }
            for (Predicate<Flow> p : b) {
                if (p.test(flow)) return false;
            }
            return true;
        };
    }

    /** One FlowFilter: the AND of its set fields. An empty filter matches every flow. */
    public static Predicate<Flow> compile(FlowFilter f) {
        List<Predicate<Flow>> all = new ArrayList<>();
        if (f.getUuidCount() > 0) {
            Set<String> ids = Set.copyOf(f.getUuidList());
            all.add(fl -> ids.contains(fl.getUuid()));
        }
        ips(all, "source_ip", f.getSourceIpList(), fl -> fl.getIP().getSource());
        ips(all, "source_ip_xlated", f.getSourceIpXlatedList(), fl -> fl.getIP().getSourceXlated());
        ips(all, "destination_ip", f.getDestinationIpList(), fl -> fl.getIP().getDestination());
        pods(all, "source_pod", f.getSourcePodList(), Flow::getSource);
        pods(all, "destination_pod", f.getDestinationPodList(), Flow::getDestination);
        fqdns(all, "source_fqdn", f.getSourceFqdnList(), Flow::getSourceNamesList);
        fqdns(all, "destination_fqdn", f.getDestinationFqdnList(), Flow::getDestinationNamesList);
        labels(all, "source_label", f.getSourceLabelList(), fl -> fl.getSource().getLabelsList());
        labels(all, "destination_label", f.getDestinationLabelList(), fl -> fl.getDestination().getLabelsList());
        labels(all, "node_labels", f.getNodeLabelsList(), Flow::getNodeLabelsList);
        services(all, "source_service", f.getSourceServiceList(), Flow::getSourceService);
        services(all, "destination_service", f.getDestinationServiceList(), Flow::getDestinationService);
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
            EnumSet<TrafficDirection> s = enums(TrafficDirection.class, f.getTrafficDirectionList());
            all.add(fl -> s.contains(fl.getTrafficDirection()));
        }
        if (f.getVerdictCount() > 0) {
            EnumSet<Verdict> s = enums(Verdict.class, f.getVerdictList());
            all.add(fl -> s.contains(fl.getVerdict()));
        }
        if (f.getDropReasonDescCount() > 0) {
            EnumSet<DropReason> s = enums(DropReason.class, f.getDropReasonDescList());
            all.add(fl -> s.contains(fl.getDropReasonDesc()));
        }
        if (f.getInterfaceCount() > 0) {
            List<NetworkInterface> ifs = List.copyOf(f.getInterfaceList());
            all.add(fl -> {
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
                int t = fl.getEventType().getType(), st = fl.getEventType().getSubType();
                for (EventTypeFilter e : ets) {
                    if (e.getType() == t && (!e.getMatchSubType() || e.getSubType() == st)) return true;
                }
                return false;
            });
        }
        httpStatus(all, f.getHttpStatusCodeList());
        protocols(all, f.getProtocolList());
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
        if (f.getHttpMethodCount() > 0) {
            Set<String> s = new HashSet<>();
            for (String m : f.getHttpMethodList()) s.add(m.toUpperCase(Locale.ROOT));
            all.add(fl -> fl.getL7().hasHttp() && s.contains(fl.getL7().getHttp().getMethod().toUpperCase(Locale.ROOT)));
        }
        if (f.getHttpPathCount() > 0) {
            List<Pattern> ps = regexes("http_path", f.getHttpPathList());
            all.add(fl -> fl.getL7().hasHttp() && anyFind(ps, path(fl.getL7().getHttp().getUrl())));
        }
        if (f.getHttpUrlCount() > 0) {
            List<Pattern> ps = regexes("http_url", f.getHttpUrlList());
            all.add(fl -> fl.getL7().hasHttp() && anyFind(ps, fl.getL7().getHttp().getUrl()));
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
        nodeNames(all, f.getNodeNameList());
        if (f.getIpVersionCount() > 0) {
            EnumSet<IPVersion> s = enums(IPVersion.class, f.getIpVersionList());
            all.add(fl -> s.contains(fl.getIP().getIpVersion()));
        }
        if (f.getTraceIdCount() > 0) {
            Set<String> s = Set.copyOf(f.getTraceIdList());
            all.add(fl -> s.contains(fl.getTraceContext().getParent().getTraceId()));
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

    private static <E extends Enum<E>> EnumSet<E> enums(Class<E> type, List<E> values) {
        EnumSet<E> s = EnumSet.noneOf(type);
        for (E v : values) {
            if (v.name().equals("UNRECOGNIZED")) {
                throw new InvalidFilterException(type.getSimpleName(), "?", "unknown enum number");
            }
            s.add(v);
        }
        return s;
    }

    private static void ips(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, String> ip) {
        if (values.isEmpty()) return;
        List<IpMatcher> ms = new ArrayList<>();
        for (String v : values) ms.add(IpMatcher.parse(field, v));
        IpMatcher[] arr = ms.toArray(new IpMatcher[0]);
        all.add(fl -> {
            String s = ip.apply(fl);
            if (s.isEmpty()) return false;
            for (IpMatcher m : arr) {
                if (m.matches(s)) return true;
            }
            return false;
        });
    }

    private record NsName(String namespace, String prefix) {}

    private static List<NsName> nsNames(String field, List<String> values) {
        List<NsName> out = new ArrayList<>();
        for (String v : values) {
            if (v.isEmpty()) throw new InvalidFilterException(field, v, "must not be empty");
            int slash = v.indexOf('/');
            if (slash < 0) out.add(new NsName(null, v));
            else {
                String ns = v.substring(0, slash);
                if (ns.isEmpty()) throw new InvalidFilterException(field, v, "namespace before '/' must not be empty");
                out.add(new NsName(ns, v.substring(slash + 1)));
            }
        }
        return out;
    }

    private static void pods(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, Endpoint> ep) {
        if (values.isEmpty()) return;
        NsName[] ns = nsNames(field, values).toArray(new NsName[0]);
        all.add(fl -> {
            Endpoint e = ep.apply(fl);
            String pod = e.getPodName();
            for (NsName n : ns) {
                if (n.namespace != null) {
                    if (n.namespace.equals(e.getNamespace()) && (n.prefix.isEmpty() || pod.startsWith(n.prefix))) return true;
                } else if (!pod.isEmpty() && pod.startsWith(n.prefix)) {
                    return true;
                }
            }
            return false;
        });
    }

    private static void services(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, Service> svc) {
        if (values.isEmpty()) return;
        NsName[] ns = nsNames(field, values).toArray(new NsName[0]);
        all.add(fl -> {
            Service s = svc.apply(fl);
            for (NsName n : ns) {
                if (n.namespace != null) {
                    if (n.namespace.equals(s.getNamespace()) && (n.prefix.isEmpty() || s.getName().startsWith(n.prefix))) return true;
                } else if (!s.getName().isEmpty() && s.getName().startsWith(n.prefix)) {
                    return true;
                }
            }
            return false;
        });
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

    private static void labels(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, List<String>> labels) {
        if (values.isEmpty()) return;
        LabelSelectorExpr[] sels = values.stream().map(v -> LabelSelectorExpr.parse(field, v)).toArray(LabelSelectorExpr[]::new);
        all.add(fl -> {
            List<String> ls = labels.apply(fl);
            for (LabelSelectorExpr s : sels) {
                if (s.matches(ls)) return true;
            }
            return false;
        });
    }

    private static void fqdns(List<Predicate<Flow>> all, String field, List<String> values, Function<Flow, List<String>> names) {
        if (values.isEmpty()) return;
        List<Pattern> ps = new ArrayList<>();
        for (String v : values) {
            String t = v.trim().toLowerCase(Locale.ROOT);
            if (t.isEmpty()) throw new InvalidFilterException(field, v, "must not be empty");
            if (t.endsWith(".")) t = t.substring(0, t.length() - 1);
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                if (!(Character.isLetterOrDigit(c) || c == '-' || c == '.' || c == '*' || c == '_')) {
                    throw new InvalidFilterException(field, v, "invalid character '" + c + "' in a DNS name");
                }
            }
            ps.add(Pattern.compile(t.replace(".", "\\.").replace("*", "[-.0-9a-z_]*")));
        }
        all.add(fl -> {
            for (String n : names.apply(fl)) {
                String name = n.toLowerCase(Locale.ROOT);
                if (name.endsWith(".")) name = name.substring(0, name.length() - 1);
                for (Pattern p : ps) {
                    if (p.matcher(name).matches()) return true;
                }
            }
            return false;
        });
    }

    private static void httpStatus(List<Predicate<Flow>> all, List<String> values) {
        if (values.isEmpty()) return;
        int n = values.size();
        int[] lo = new int[n], hi = new int[n];
        for (int i = 0; i < n; i++) {
            String v = values.get(i).trim();
            boolean plus = v.endsWith("+");
            String digits = plus ? v.substring(0, v.length() - 1) : v;
            int code;
            try {
                code = Integer.parseInt(digits);
            } catch (NumberFormatException e) {
                throw new InvalidFilterException("http_status_code", v, "expected a status like 404 or 4+");
            }
            if (plus) {
                if (digits.length() < 1 || digits.length() > 3) throw new InvalidFilterException("http_status_code", v, "expected a status like 404 or 4+");
                int scale = (int) Math.pow(10, 3 - digits.length());
                lo[i] = code * scale;
                hi[i] = (code + 1) * scale - 1;
            } else {
                lo[i] = code;
                hi[i] = code;
            }
            if (lo[i] < 100 || hi[i] > 599) throw new InvalidFilterException("http_status_code", v, "status must be within 100-599");
        }
        all.add(fl -> {
            if (!fl.getL7().hasHttp()) return false;
            HTTP h = fl.getL7().getHttp();
            int c = h.getCode();
            if (c == 0) return false;
            for (int i = 0; i < n; i++) {
                if (c >= lo[i] && c <= hi[i]) return true;
            }
            return false;
        });
    }

    private static final int P_TCP = 1, P_UDP = 2, P_SCTP = 4, P_ICMP4 = 8, P_ICMP6 = 16, P_HTTP = 32, P_DNS = 64, P_KAFKA = 128;

    private static void protocols(List<Predicate<Flow>> all, List<String> values) {
        if (values.isEmpty()) return;
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
        int m = mask;
        all.add(fl -> {
            int have = switch (fl.getL4().getProtocolCase()) {
                case TCP -> P_TCP;
                case UDP -> P_UDP;
                case SCTP -> P_SCTP;
                case ICMPV4 -> P_ICMP4;
                case ICMPV6 -> P_ICMP6;
                case PROTOCOL_NOT_SET -> 0;
            };
            if (fl.hasL7()) {
                have |= switch (fl.getL7().getRecordCase()) {
                    case HTTP -> P_HTTP;
                    case DNS -> P_DNS;
                    case KAFKA -> P_KAFKA;
                    case RECORD_NOT_SET -> 0;
                };
            }
            return (have & m) != 0;
        });
    }

    private static void ports(List<Predicate<Flow>> all, String field, List<String> values, boolean source) {
        if (values.isEmpty()) return;
        int[] ports = new int[values.size()];
        for (int i = 0; i < ports.length; i++) {
            String v = values.get(i).trim();
            try {
                ports[i] = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new InvalidFilterException(field, v, "not a port number");
            }
            if (ports[i] < 0 || ports[i] > 65535) throw new InvalidFilterException(field, v, "port must be within 0-65535");
        }
        all.add(fl -> {
            Layer4 l4 = fl.getL4();
            int p;
            switch (l4.getProtocolCase()) {
                case TCP -> p = source ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort();
                case UDP -> p = source ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort();
                case SCTP -> p = source ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort();
                default -> {
                    return false;
                }
            }
            for (int x : ports) {
                if (x == p) return true;
            }
            return false;
        });
    }

    private static void nodeNames(List<Predicate<Flow>> all, List<String> values) {
        if (values.isEmpty()) return;
        List<Pattern> ps = new ArrayList<>();
        for (String v : values) {
            if (v.isEmpty()) throw new InvalidFilterException("node_name", v, "must not be empty");
            if (v.chars().filter(c -> c == '/').count() > 1) throw new InvalidFilterException("node_name", v, "expected node or cluster/node");
            String glob = v.indexOf('/') < 0 ? "*/" + v : v;
            StringBuilder re = new StringBuilder();
            for (String part : glob.split("/", -1)) {
                if (!re.isEmpty()) re.append('/');
                int k = 0;
                for (String lit : part.split("\\*", -1)) {
                    if (k++ > 0) re.append("[^/]*");
                    re.append(Pattern.quote(lit));
                }
            }
            ps.add(Pattern.compile(re.toString()));
        }
        all.add(fl -> {
            String n = fl.getNodeName();
            if (n.indexOf('/') < 0) n = "default/" + n;
            for (Pattern p : ps) {
                if (p.matcher(n).matches()) return true;
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

    /** The path of a URL ({@code http://host/a/b?x} -> {@code /a/b}); the input if it has no scheme. */
    private static String path(String url) {
        int scheme = url.indexOf("://");
        String rest = url;
        if (scheme >= 0) {
            int slash = url.indexOf('/', scheme + 3);
            rest = slash < 0 ? "/" : url.substring(slash);
        }
        int q = rest.indexOf('?');
        return q < 0 ? rest : rest.substring(0, q);
    }

    private static boolean contains(TCPFlags have, TCPFlags want) {
        return (!want.getFIN() || have.getFIN()) && (!want.getSYN() || have.getSYN()) && (!want.getRST() || have.getRST())
                && (!want.getPSH() || have.getPSH()) && (!want.getACK() || have.getACK()) && (!want.getURG() || have.getURG())
                && (!want.getECE() || have.getECE()) && (!want.getCWR() || have.getCWR()) && (!want.getNS() || have.getNS());
    }
}
