package dev.sieve.relay.query;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.NetworkInterface;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.Workload;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Hubble FlowFilter semantics in plain Java, the reference every store's fast path must agree
 * with: inside one FlowFilter every set field must match (AND), inside one field any value may
 * match (OR); a flow passes a query when the whitelist is empty or one whitelist filter matches,
 * and no blacklist filter matches.
 *
 * <p>NOTE: observer/ (dev.sieve.observer.filter) implements the same semantics for the node;
 * this copy exists so the relay does not depend on an unfinished module. Merge later.
 */
public final class FlowMatcher implements Predicate<Flow> {
  private final List<Predicate<Flow>> white;
  private final List<Predicate<Flow>> black;

  public FlowMatcher(List<FlowFilter> whitelist, List<FlowFilter> blacklist) {
    this.white = whitelist.stream().map(FlowMatcher::compile).toList();
    this.black = blacklist.stream().map(FlowMatcher::compile).toList();
  }

  public static FlowMatcher of(FlowQuery q) {
    return new FlowMatcher(q.whitelist(), q.blacklist());
  }

  @Override
  public boolean test(Flow f) {
    if (!white.isEmpty()) {
      boolean any = false;
      for (Predicate<Flow> p : white) if (p.test(f)) { any = true; break; }
      if (!any) return false;
    }
    for (Predicate<Flow> p : black) if (p.test(f)) return false;
    return true;
  }

  /** Throws {@link InvalidQueryException} for malformed values or fields the relay does not support. */
  public static void validate(List<FlowFilter> filters) {
    for (FlowFilter f : filters) compile(f);
  }

  /** Numbers of the FlowFilter fields set in {@code f}. */
  public static List<Integer> setFields(FlowFilter f) {
    List<Integer> out = new ArrayList<>();
    for (FieldDescriptor d : f.getAllFields().keySet()) out.add(d.getNumber());
    return out;
  }

  static Predicate<Flow> compile(FlowFilter f) {
    List<Predicate<Flow>> all = new ArrayList<>();
    if (f.hasExperimental() && f.getExperimental().getCelExpressionCount() > 0)
      throw new InvalidQueryException("experimental.cel_expression filters are not supported by the relay");
    if (f.getUuidCount() > 0) all.add(anyString(f.getUuidList(), Flow::getUuid, String::equals));
    if (f.getSourceIpCount() > 0) all.add(ips(f.getSourceIpList(), fl -> fl.getIP().getSource(), "source_ip"));
    if (f.getSourceIpXlatedCount() > 0) all.add(ips(f.getSourceIpXlatedList(), fl -> fl.getIP().getSourceXlated(), "source_ip_xlated"));
    if (f.getDestinationIpCount() > 0) all.add(ips(f.getDestinationIpList(), fl -> fl.getIP().getDestination(), "destination_ip"));
    if (f.getSourcePodCount() > 0) all.add(names(f.getSourcePodList(), Flow::getSource, "source_pod"));
    if (f.getDestinationPodCount() > 0) all.add(names(f.getDestinationPodList(), Flow::getDestination, "destination_pod"));
    if (f.getSourceFqdnCount() > 0) all.add(fqdns(f.getSourceFqdnList(), Flow::getSourceNamesList));
    if (f.getDestinationFqdnCount() > 0) all.add(fqdns(f.getDestinationFqdnList(), Flow::getDestinationNamesList));
    if (f.getSourceLabelCount() > 0) all.add(labels(f.getSourceLabelList(), fl -> fl.getSource().getLabelsList()));
    if (f.getDestinationLabelCount() > 0) all.add(labels(f.getDestinationLabelList(), fl -> fl.getDestination().getLabelsList()));
    if (f.getNodeLabelsCount() > 0) all.add(labels(f.getNodeLabelsList(), Flow::getNodeLabelsList));
    if (f.getSourceServiceCount() > 0) all.add(services(f.getSourceServiceList(), fl -> fl.getSourceService().getNamespace(), fl -> fl.getSourceService().getName()));
    if (f.getDestinationServiceCount() > 0) all.add(services(f.getDestinationServiceList(), fl -> fl.getDestinationService().getNamespace(), fl -> fl.getDestinationService().getName()));
    if (f.getSourceWorkloadCount() > 0) all.add(workloads(f.getSourceWorkloadList(), Flow::getSource));
    if (f.getDestinationWorkloadCount() > 0) all.add(workloads(f.getDestinationWorkloadList(), Flow::getDestination));
    if (f.getSourceClusterNameCount() > 0) all.add(anyString(f.getSourceClusterNameList(), fl -> fl.getSource().getClusterName(), String::equals));
    if (f.getDestinationClusterNameCount() > 0) all.add(anyString(f.getDestinationClusterNameList(), fl -> fl.getDestination().getClusterName(), String::equals));
    if (f.getTrafficDirectionCount() > 0) { var v = List.copyOf(f.getTrafficDirectionList()); all.add(fl -> v.contains(fl.getTrafficDirection())); }
    if (f.getVerdictCount() > 0) { var v = List.copyOf(f.getVerdictList()); all.add(fl -> v.contains(fl.getVerdict())); }
    if (f.getDropReasonDescCount() > 0) { var v = List.copyOf(f.getDropReasonDescList()); all.add(fl -> v.contains(fl.getDropReasonDesc())); }
    if (f.getInterfaceCount() > 0) all.add(interfaces(f.getInterfaceList()));
    if (f.getEventTypeCount() > 0) all.add(eventTypes(f.getEventTypeList()));
    if (f.getHttpStatusCodeCount() > 0) all.add(httpStatus(f.getHttpStatusCodeList()));
    if (f.getProtocolCount() > 0) all.add(protocols(f.getProtocolList()));
    if (f.getSourcePortCount() > 0) all.add(ports(f.getSourcePortList(), true, "source_port"));
    if (f.getDestinationPortCount() > 0) all.add(ports(f.getDestinationPortList(), false, "destination_port"));
    if (f.getReplyCount() > 0) { var v = List.copyOf(f.getReplyList()); all.add(fl -> fl.hasIsReply() && v.contains(fl.getIsReply().getValue())); }
    if (f.getDnsQueryCount() > 0) all.add(regexes(f.getDnsQueryList(), fl -> fl.getL7().hasDns() ? fl.getL7().getDns().getQuery() : null, false, "dns_query"));
    if (f.getSourceIdentityCount() > 0) { var v = List.copyOf(f.getSourceIdentityList()); all.add(fl -> v.contains(fl.getSource().getIdentity())); }
    if (f.getDestinationIdentityCount() > 0) { var v = List.copyOf(f.getDestinationIdentityList()); all.add(fl -> v.contains(fl.getDestination().getIdentity())); }
    if (f.getHttpMethodCount() > 0) all.add(anyString(f.getHttpMethodList(), fl -> fl.getL7().hasHttp() ? fl.getL7().getHttp().getMethod() : null, String::equalsIgnoreCase));
    if (f.getHttpPathCount() > 0) all.add(regexes(f.getHttpPathList(), FlowMatcher::httpPath, true, "http_path"));
    if (f.getHttpUrlCount() > 0) all.add(regexes(f.getHttpUrlList(), fl -> fl.getL7().hasHttp() ? fl.getL7().getHttp().getUrl() : null, true, "http_url"));
    if (f.getHttpHeaderCount() > 0) all.add(headers(f.getHttpHeaderList()));
    if (f.getTcpFlagsCount() > 0) all.add(tcpFlags(f.getTcpFlagsList()));
    if (f.getNodeNameCount() > 0) all.add(nodeNames(f.getNodeNameList()));
    if (f.getIpVersionCount() > 0) { var v = List.copyOf(f.getIpVersionList()); all.add(fl -> fl.hasIP() && v.contains(fl.getIP().getIpVersion())); }
    if (f.getTraceIdCount() > 0) all.add(anyString(f.getTraceIdList(), fl -> fl.getTraceContext().getParent().getTraceId(), String::equals));
    return fl -> {
      for (Predicate<Flow> p : all) if (!p.test(fl)) return false;
      return true;
    };
  }

  interface Getter { String get(Flow f); }
  interface StrEq { boolean eq(String want, String have); }

  private static Predicate<Flow> anyString(List<String> wants, Getter g, StrEq eq) {
    List<String> w = List.copyOf(wants);
    return fl -> {
      String have = g.get(fl);
      if (have == null) return false;
      for (String s : w) if (eq.eq(s, have)) return true;
      return false;
    };
  }

  // ---- IPs: exact address or CIDR ----
  public record Cidr(byte[] net, int bits) {
    public boolean contains(String ip) {
      byte[] a = parseIp(ip);
      if (a == null || a.length != net.length) return false;
      int full = bits / 8, rem = bits % 8;
      for (int i = 0; i < full; i++) if (a[i] != net[i]) return false;
      if (rem == 0) return true;
      int mask = (0xff << (8 - rem)) & 0xff;
      return (a[full] & mask) == (net[full] & mask);
    }
  }

  static byte[] parseIp(String s) {
    if (s == null || s.isEmpty()) return null;
    if (!s.matches("[0-9a-fA-F:.]+")) return null; // never resolve names
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (Exception e) {
      return null;
    }
  }

  /** Parses a filter IP value: an address or a CIDR; returns a predicate over address strings. */
  public static Predicate<String> ipPredicate(String v, String field) {
    if (v.contains("/")) {
      String[] p = v.split("/", 2);
      byte[] net = parseIp(p[0]);
      int bits;
      try { bits = Integer.parseInt(p[1]); } catch (NumberFormatException e) { bits = -1; }
      if (net == null || bits < 0 || bits > net.length * 8) throw new InvalidQueryException(field + ": invalid CIDR " + quote(v));
      Cidr c = new Cidr(net, bits);
      return c::contains;
    }
    byte[] a = parseIp(v);
    if (a == null) throw new InvalidQueryException(field + ": invalid IP address " + quote(v));
    String canonical = v;
    return have -> have.equals(canonical) || java.util.Arrays.equals(parseIp(have), a);
  }

  private static Predicate<Flow> ips(List<String> wants, Getter g, String field) {
    List<Predicate<String>> ps = wants.stream().map(v -> ipPredicate(v, field)).toList();
    return fl -> {
      String have = g.get(fl);
      if (have.isEmpty()) return false;
      for (var p : ps) if (p.test(have)) return true;
      return false;
    };
  }

  // ---- namespace/name prefixes (pods, services) ----
  /** "namespace/prefix" matches that namespace and a name prefix; "prefix" alone matches any namespace. */
  public record NamespacedPrefix(String namespace, String prefix) {
    public static NamespacedPrefix parse(String v, String field) {
      if (v.isEmpty()) throw new InvalidQueryException(field + ": empty value, want [namespace/][name-prefix]");
      int i = v.indexOf('/');
      if (i < 0) return new NamespacedPrefix("", v);
      return new NamespacedPrefix(v.substring(0, i), v.substring(i + 1));
    }

    public boolean test(String ns, String name) {
      return (namespace.isEmpty() || namespace.equals(ns)) && name.startsWith(prefix) && !(ns.isEmpty() && name.isEmpty());
    }
  }

  private static Predicate<Flow> names(List<String> wants, java.util.function.Function<Flow, Endpoint> ep, String field) {
    List<NamespacedPrefix> ps = wants.stream().map(v -> NamespacedPrefix.parse(v, field)).toList();
    return fl -> {
      Endpoint e = ep.apply(fl);
      for (var p : ps) if (p.test(e.getNamespace(), e.getPodName())) return true;
      return false;
    };
  }

  private static Predicate<Flow> services(List<String> wants, Getter ns, Getter name) {
    List<NamespacedPrefix> ps = wants.stream().map(v -> NamespacedPrefix.parse(v, "service")).toList();
    return fl -> {
      for (var p : ps) if (p.test(ns.get(fl), name.get(fl))) return true;
      return false;
    };
  }

  private static Predicate<Flow> workloads(List<Workload> wants, java.util.function.Function<Flow, Endpoint> ep) {
    List<Workload> w = List.copyOf(wants);
    return fl -> {
      for (Workload have : ep.apply(fl).getWorkloadsList())
        for (Workload want : w)
          if ((want.getKind().isEmpty() || want.getKind().equals(have.getKind()))
              && (want.getName().isEmpty() || want.getName().equals(have.getName()))) return true;
      return false;
    };
  }

  // ---- globs (fqdn, node names) ----
  public static Pattern glob(String g, boolean caseInsensitive) {
    StringBuilder re = new StringBuilder();
    for (char c : g.toCharArray()) {
      if (c == '*') re.append("[^/]*");
      else re.append(Pattern.quote(String.valueOf(c)));
    }
    return Pattern.compile(re.toString(), caseInsensitive ? Pattern.CASE_INSENSITIVE : 0);
  }

  private static Predicate<Flow> fqdns(List<String> wants, java.util.function.Function<Flow, List<String>> names) {
    List<Pattern> ps = wants.stream().map(v -> glob(v.endsWith(".") ? v.substring(0, v.length() - 1) : v, true)).toList();
    return fl -> {
      for (String n : names.apply(fl)) {
        String nn = n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
        for (Pattern p : ps) if (p.matcher(nn).matches()) return true;
      }
      return false;
    };
  }

  /** Node names: a glob over "cluster/node" or "node"; a pattern without '/' matches the node part. */
  public static Predicate<String> nodeNamePredicate(String v) {
    if (v.isEmpty()) throw new InvalidQueryException("node_name: empty pattern");
    Pattern p = glob(v, false);
    boolean hasCluster = v.contains("/");
    return have -> {
      if (p.matcher(have).matches()) return true;
      if (!hasCluster) {
        int i = have.lastIndexOf('/');
        return i >= 0 && p.matcher(have.substring(i + 1)).matches();
      }
      return false;
    };
  }

  private static Predicate<Flow> nodeNames(List<String> wants) {
    List<Predicate<String>> ps = wants.stream().map(FlowMatcher::nodeNamePredicate).toList();
    return fl -> {
      for (var p : ps) if (p.test(fl.getNodeName())) return true;
      return false;
    };
  }

  // ---- label selectors ----
  /** A label selector: comma-separated terms {@code key}, {@code !key}, {@code key=value}, {@code key==value}, {@code key!=value}; keys may carry a source prefix ("k8s:app"). */
  public static Predicate<List<String>> labelSelector(String sel) {
    List<Predicate<List<String>>> terms = new ArrayList<>();
    for (String raw : sel.split(",")) {
      String t = raw.trim();
      if (t.isEmpty()) throw new InvalidQueryException("label selector " + quote(sel) + ": empty term");
      if (t.startsWith("!")) {
        String k = t.substring(1).trim();
        terms.add(ls -> ls.stream().noneMatch(l -> keyMatches(k, l)));
      } else if (t.contains("!=")) {
        String[] kv = t.split("!=", 2);
        String k = kv[0].trim(), v = kv[1].trim();
        terms.add(ls -> ls.stream().noneMatch(l -> keyMatches(k, l) && value(l).equals(v)));
      } else if (t.contains("=")) {
        String[] kv = t.split("==?", 2);
        String k = kv[0].trim(), v = kv[1].trim();
        terms.add(ls -> ls.stream().anyMatch(l -> keyMatches(k, l) && value(l).equals(v)));
      } else {
        terms.add(ls -> ls.stream().anyMatch(l -> keyMatches(t, l)));
      }
    }
    return ls -> {
      for (var p : terms) if (!p.test(ls)) return false;
      return true;
    };
  }

  private static boolean keyMatches(String wantKey, String label) {
    int eq = label.indexOf('=');
    String key = eq < 0 ? label : label.substring(0, eq);
    if (key.equals(wantKey)) return true;
    if (wantKey.startsWith("any:")) wantKey = wantKey.substring(4);
    if (!wantKey.contains(":")) {
      int c = key.indexOf(':');
      return c >= 0 && key.substring(c + 1).equals(wantKey);
    }
    return false;
  }

  private static String value(String label) {
    int eq = label.indexOf('=');
    return eq < 0 ? "" : label.substring(eq + 1);
  }

  private static Predicate<Flow> labels(List<String> wants, java.util.function.Function<Flow, List<String>> ls) {
    List<Predicate<List<String>>> ps = wants.stream().map(FlowMatcher::labelSelector).toList();
    return fl -> {
      List<String> have = ls.apply(fl);
      for (var p : ps) if (p.test(have)) return true;
      return false;
    };
  }

  // ---- L4 ----
  /** Protocol names Hubble accepts; "http", "dns", "kafka" test the L7 record. */
  public static String normalizeProtocol(String p) {
    String v = p.toLowerCase(Locale.ROOT);
    return switch (v) {
      case "tcp", "udp", "sctp", "icmpv4", "icmpv6", "http", "dns", "kafka" -> v;
      case "icmp" -> "icmpv4";
      default -> throw new InvalidQueryException("protocol: unknown protocol " + quote(p) + " (tcp, udp, sctp, icmpv4, icmpv6, http, dns, kafka)");
    };
  }

  /** The L4 protocol of a flow as a lower-case name, "" when none. */
  public static String l4Protocol(Flow f) {
    Layer4 l4 = f.getL4();
    return switch (l4.getProtocolCase()) {
      case TCP -> "tcp";
      case UDP -> "udp";
      case ICMPV4 -> "icmpv4";
      case ICMPV6 -> "icmpv6";
      case SCTP -> "sctp";
      default -> "";
    };
  }

  private static Predicate<Flow> protocols(List<String> wants) {
    List<String> w = wants.stream().map(FlowMatcher::normalizeProtocol).toList();
    return fl -> {
      String l4 = l4Protocol(fl);
      for (String p : w) {
        switch (p) {
          case "http" -> { if (fl.getL7().hasHttp()) return true; }
          case "dns" -> { if (fl.getL7().hasDns()) return true; }
          case "kafka" -> { if (fl.getL7().hasKafka()) return true; }
          default -> { if (p.equals(l4)) return true; }
        }
      }
      return false;
    };
  }

  public static int parsePort(String v, String field) {
    try {
      int p = Integer.parseInt(v.trim());
      if (p < 0 || p > 65535) throw new NumberFormatException();
      return p;
    } catch (NumberFormatException e) {
      throw new InvalidQueryException(field + ": invalid port " + quote(v) + " (0-65535)");
    }
  }

  public static int port(Flow f, boolean source) {
    Layer4 l4 = f.getL4();
    return switch (l4.getProtocolCase()) {
      case TCP -> source ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort();
      case UDP -> source ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort();
      case SCTP -> source ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort();
      default -> -1;
    };
  }

  private static Predicate<Flow> ports(List<String> wants, boolean source, String field) {
    int[] w = wants.stream().mapToInt(v -> parsePort(v, field)).toArray();
    return fl -> {
      int p = port(fl, source);
      if (p < 0) return false;
      for (int x : w) if (x == p) return true;
      return false;
    };
  }

  private static Predicate<Flow> tcpFlags(List<TCPFlags> wants) {
    List<TCPFlags> w = List.copyOf(wants);
    return fl -> {
      if (!fl.getL4().hasTCP()) return false;
      TCPFlags h = fl.getL4().getTCP().getFlags();
      for (TCPFlags f : w) {
        if ((!f.getFIN() || h.getFIN()) && (!f.getSYN() || h.getSYN()) && (!f.getRST() || h.getRST())
            && (!f.getPSH() || h.getPSH()) && (!f.getACK() || h.getACK()) && (!f.getURG() || h.getURG())
            && (!f.getECE() || h.getECE()) && (!f.getCWR() || h.getCWR()) && (!f.getNS() || h.getNS())) return true;
      }
      return false;
    };
  }

  private static Predicate<Flow> interfaces(List<NetworkInterface> wants) {
    List<NetworkInterface> w = List.copyOf(wants);
    return fl -> {
      if (!fl.hasInterface()) return false;
      NetworkInterface h = fl.getInterface();
      for (var i : w)
        if ((i.getIndex() == 0 || i.getIndex() == h.getIndex()) && (i.getName().isEmpty() || i.getName().equals(h.getName()))) return true;
      return false;
    };
  }

  private static Predicate<Flow> eventTypes(List<EventTypeFilter> wants) {
    List<EventTypeFilter> w = List.copyOf(wants);
    return fl -> {
      if (!fl.hasEventType()) return false;
      for (var e : w)
        if (e.getType() == fl.getEventType().getType() && (!e.getMatchSubType() || e.getSubType() == fl.getEventType().getSubType())) return true;
      return false;
    };
  }

  private static Predicate<Flow> httpStatus(List<String> wants) {
    List<Predicate<Integer>> ps = new ArrayList<>();
    for (String v : wants) {
      if (v.matches("[1-5]\\+")) { int c = v.charAt(0) - '0'; ps.add(code -> code / 100 == c); }
      else if (v.matches("[1-5][0-9][0-9]")) { int c = Integer.parseInt(v); ps.add(code -> code == c); }
      else if (v.matches("[1-5][0-9]\\+")) { int c = Integer.parseInt(v.substring(0, 2)); ps.add(code -> code / 10 == c); }
      else throw new InvalidQueryException("http_status_code: invalid value " + quote(v) + " (e.g. 404, 5+, 40+)");
    }
    return fl -> {
      if (!fl.getL7().hasHttp() || fl.getL7().getHttp().getCode() == 0) return false;
      int code = fl.getL7().getHttp().getCode();
      for (var p : ps) if (p.test(code)) return true;
      return false;
    };
  }

  private static String httpPath(Flow fl) {
    if (!fl.getL7().hasHttp()) return null;
    String url = fl.getL7().getHttp().getUrl();
    try {
      String p = java.net.URI.create(url).getRawPath();
      return p == null ? url : p;
    } catch (IllegalArgumentException e) {
      return url;
    }
  }

  private static Predicate<Flow> regexes(List<String> wants, Getter g, boolean full, String field) {
    List<Pattern> ps = new ArrayList<>();
    for (String v : wants) {
      try { ps.add(Pattern.compile(v)); }
      catch (PatternSyntaxException e) { throw new InvalidQueryException(field + ": invalid regular expression " + quote(v) + ": " + e.getDescription()); }
    }
    return fl -> {
      String have = g.get(fl);
      if (have == null) return false;
      for (Pattern p : ps) if (full ? p.matcher(have).matches() : p.matcher(have).find()) return true;
      return false;
    };
  }

  private static Predicate<Flow> headers(List<HTTPHeader> wants) {
    List<HTTPHeader> w = List.copyOf(wants);
    return fl -> {
      if (!fl.getL7().hasHttp()) return false;
      for (HTTPHeader h : fl.getL7().getHttp().getHeadersList())
        for (HTTPHeader x : w) if (x.getKey().equalsIgnoreCase(h.getKey()) && x.getValue().equals(h.getValue())) return true;
      return false;
    };
  }

  static String quote(String s) {
    return "\"" + s + "\"";
  }
}
