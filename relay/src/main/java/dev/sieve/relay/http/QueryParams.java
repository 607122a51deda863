package dev.sieve.relay.http;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import jakarta.ws.rs.core.MultivaluedMap;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * REST query parameters -> {@link FlowQuery}, with the names of {@code hubble observe} flags:
 * verdict, drop-reason, from-pod, to-pod, pod, namespace, from-namespace, to-namespace, from-ip,
 * to-ip, ip, protocol, port, from-port, to-port, from-identity, to-identity, from-label, to-label,
 * label, node-name, http-status, http-method, http-path, traffic-direction, uuid, fqdn; and
 * since/until (RFC 3339 or a duration ago such as 5m), last/first N, follow. For anything else,
 * {@code whitelist} / {@code blacklist} take FlowFilter JSON (Hubble's jsonpb), repeatable.
 * Same-named parameters OR; different parameters AND; "pod"/"ip"/"label"/"namespace"/"port"
 * match either side (two whitelist filters, as Hubble does).
 */
public final class QueryParams {
  private QueryParams() {}

  static final Set<String> KNOWN = Set.of("verdict", "drop-reason", "from-pod", "to-pod", "pod", "namespace", "from-namespace", "to-namespace",
      "from-ip", "to-ip", "ip", "protocol", "port", "from-port", "to-port", "from-identity", "to-identity", "from-label", "to-label", "label",
      "node-name", "http-status", "http-method", "http-path", "traffic-direction", "uuid", "fqdn", "since", "until", "last", "first", "follow",
      "whitelist", "blacklist", "bucket", "all");

  public static FlowQuery parse(MultivaluedMap<String, String> p) {
    for (String k : p.keySet()) if (!KNOWN.contains(k)) throw new InvalidQueryException("unknown query parameter \"" + k + "\"");
    FlowFilter.Builder base = FlowFilter.newBuilder();
    for (String v : list(p, "verdict")) {
      try { base.addVerdict(Verdict.valueOf(v.toUpperCase(Locale.ROOT))); }
      catch (IllegalArgumentException e) { throw new InvalidQueryException("verdict: unknown verdict \"" + v + "\""); }
    }
    for (String v : list(p, "drop-reason")) {
      try { base.addDropReasonDesc(DropReason.valueOf(v.toUpperCase(Locale.ROOT))); }
      catch (IllegalArgumentException e) { throw new InvalidQueryException("drop-reason: unknown drop reason \"" + v + "\""); }
    }
    for (String v : list(p, "traffic-direction")) {
      try { base.addTrafficDirection(TrafficDirection.valueOf(v.toUpperCase(Locale.ROOT))); }
      catch (IllegalArgumentException e) { throw new InvalidQueryException("traffic-direction: unknown direction \"" + v + "\""); }
    }
    base.addAllSourcePod(list(p, "from-pod")).addAllDestinationPod(list(p, "to-pod"));
    for (String ns : list(p, "from-namespace")) base.addSourcePod(ns + "/");
    for (String ns : list(p, "to-namespace")) base.addDestinationPod(ns + "/");
    base.addAllSourceIp(list(p, "from-ip")).addAllDestinationIp(list(p, "to-ip"));
    base.addAllProtocol(list(p, "protocol"));
    base.addAllSourcePort(list(p, "from-port")).addAllDestinationPort(list(p, "to-port"));
    for (String v : list(p, "from-identity")) base.addSourceIdentity(uint(v, "from-identity"));
    for (String v : list(p, "to-identity")) base.addDestinationIdentity(uint(v, "to-identity"));
    base.addAllSourceLabel(list(p, "from-label")).addAllDestinationLabel(list(p, "to-label"));
    base.addAllNodeName(list(p, "node-name")).addAllHttpStatusCode(list(p, "http-status")).addAllHttpMethod(list(p, "http-method"))
        .addAllHttpPath(list(p, "http-path")).addAllUuid(list(p, "uuid"));

    List<FlowFilter> white = new ArrayList<>();
    // either-side parameters: (base + source side) OR (base + destination side)
    List<String> pods = new ArrayList<>(list(p, "pod"));
    for (String ns : list(p, "namespace")) pods.add(ns + "/");
    List<String> ips = list(p, "ip"), labels = list(p, "label"), ports = list(p, "port"), fqdns = list(p, "fqdn");
    if (!pods.isEmpty() || !ips.isEmpty() || !labels.isEmpty() || !ports.isEmpty() || !fqdns.isEmpty()) {
      white.add(base.clone().addAllSourcePod(pods).addAllSourceIp(ips).addAllSourceLabel(labels).addAllSourcePort(ports).addAllSourceFqdn(fqdns).build());
      white.add(base.clone().addAllDestinationPod(pods).addAllDestinationIp(ips).addAllDestinationLabel(labels).addAllDestinationPort(ports)
          .addAllDestinationFqdn(fqdns).build());
    } else if (!base.build().equals(FlowFilter.getDefaultInstance())) {
      white.add(base.build());
    }
    for (String j : list(p, "whitelist")) white.add(json(j, "whitelist"));
    List<FlowFilter> black = new ArrayList<>();
    for (String j : list(p, "blacklist")) black.add(json(j, "blacklist"));

    Instant now = Instant.now();
    Instant since = time(p.getFirst("since"), now, "since"), until = time(p.getFirst("until"), now, "until");
    long last = num(p.getFirst("last"), "last"), first = num(p.getFirst("first"), "first");
    if (last > 0 && first > 0) throw new InvalidQueryException("last and first exclude each other");
    boolean follow = bool(p.getFirst("follow"));
    long n = first > 0 ? first : last;
    if (n == 0 && since == null && !follow && !bool(p.getFirst("all"))) n = 20; // hubble observe's default
    return new FlowQuery(white, black, since, until, n, first > 0, follow);
  }

  static List<String> list(MultivaluedMap<String, String> p, String k) {
    List<String> out = new ArrayList<>();
    List<String> vs = p.get(k);
    if (vs == null) return out;
    for (String v : vs) {
      if (k.equals("whitelist") || k.equals("blacklist")) { out.add(v); continue; }
      for (String x : v.split(",")) if (!x.isBlank()) out.add(x.trim());
    }
    return out;
  }

  private static FlowFilter json(String s, String k) {
    try {
      return HubbleJson.merge(s, FlowFilter.newBuilder()).build();
    } catch (Exception e) {
      throw new InvalidQueryException(k + ": not a FlowFilter in JSON: " + e.getMessage());
    }
  }

  private static int uint(String v, String k) {
    try {
      return (int) Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new InvalidQueryException(k + ": not a number: \"" + v + "\"");
    }
  }

  static long num(String v, String k) {
    if (v == null || v.isEmpty()) return 0;
    try {
      long n = Long.parseLong(v);
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new InvalidQueryException(k + ": not a non-negative number: \"" + v + "\"");
    }
  }

  static boolean bool(String v) {
    return v != null && (v.isEmpty() || v.equalsIgnoreCase("true") || v.equals("1"));
  }

  /** RFC 3339, epoch seconds, or a duration ago ("5m", "2h", "1d", "30s"). */
  public static Instant time(String v, Instant now, String k) {
    if (v == null || v.isEmpty()) return null;
    if (v.matches("\\d+[smhd]")) return now.minus(duration(v, k));
    if (v.matches("\\d{9,11}")) return Instant.ofEpochSecond(Long.parseLong(v));
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw new InvalidQueryException(k + ": not a time (RFC 3339, epoch seconds or e.g. 5m ago): \"" + v + "\"");
    }
  }

  public static Duration duration(String v, String k) {
    if (v == null || !v.matches("\\d+[smhd]")) throw new InvalidQueryException(k + ": not a duration like 60s, 5m, 1h, 1d: \"" + v + "\"");
    long n = Long.parseLong(v.substring(0, v.length() - 1));
    return switch (v.charAt(v.length() - 1)) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
