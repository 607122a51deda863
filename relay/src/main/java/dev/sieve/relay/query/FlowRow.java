package dev.sieve.relay.query;

import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Policy;
import dev.sieve.flowfilter.FlowFilters;
import java.util.ArrayList;
import java.util.List;

/**
 * The columns both stores keep next to a flow's serialized bytes: what filters, sorting and
 * aggregates read without decoding protobuf.
 */
public record FlowRow(
    long timeNanos,
    int verdict,
    int dropReason,
    int direction,
    int protocol,
    String srcNamespace,
    String srcPod,
    String srcWorkload,
    long srcIdentity,
    String srcLabels,
    String dstNamespace,
    String dstPod,
    String dstWorkload,
    long dstIdentity,
    String dstLabels,
    String srcIp,
    String dstIp,
    int srcPort,
    int dstPort,
    String nodeName,
    String uuid,
    List<String> policies,
    byte[] bytes) {

  /** Protocol codes of the protocol column: IANA numbers; 0 = none. */
  public static final int TCP = 6, UDP = 17, ICMPV4 = 1, ICMPV6 = 58, SCTP = 132;

  /** The protocol column's code for one of {@link FlowFilters}' L4 protocol bits, 0 for none. */
  public static int protocolCode(int l4Bit) {
    return switch (l4Bit) {
      case FlowFilters.P_TCP -> TCP;
      case FlowFilters.P_UDP -> UDP;
      case FlowFilters.P_ICMP4 -> ICMPV4;
      case FlowFilters.P_ICMP6 -> ICMPV6;
      case FlowFilters.P_SCTP -> SCTP;
      default -> 0;
    };
  }

  public static FlowRow of(Flow f) {
    return of(f, f.toByteArray());
  }

  public static FlowRow of(Flow f, byte[] bytes) {
    Endpoint s = f.getSource(), d = f.getDestination();
    return new FlowRow(
        Timestamps.nanos(f),
        f.getVerdictValue(),
        f.getDropReasonDescValue(),
        f.getTrafficDirectionValue(),
        protocolCode(FlowFilters.l4ProtocolOf(f)),
        s.getNamespace(), s.getPodName(), workload(s), s.getIdentity(), String.join(",", s.getLabelsList()),
        d.getNamespace(), d.getPodName(), workload(d), d.getIdentity(), String.join(",", d.getLabelsList()),
        f.getIP().getSource(), f.getIP().getDestination(),
        Math.max(0, FlowFilters.port(f, true)), Math.max(0, FlowFilters.port(f, false)),
        f.getNodeName(), f.getUuid(), policies(f), bytes);
  }

  /**
   * The workload name used for service-map nodes: the first workload's name, else the pod
   * name, else the first reserved label ("reserved:world"), else the IP-less "unknown".
   */
  public static String workload(Endpoint e) {
    if (e.getWorkloadsCount() > 0 && !e.getWorkloads(0).getName().isEmpty()) return e.getWorkloads(0).getName();
    if (!e.getPodName().isEmpty()) return e.getPodName();
    for (String l : e.getLabelsList()) if (l.startsWith("reserved:")) return l;
    return "";
  }

  /** "allow:Kind/namespace/name" / "deny:Kind/namespace/name" for every policy that decided the flow. */
  public static List<String> policies(Flow f) {
    int n = f.getEgressAllowedByCount() + f.getIngressAllowedByCount() + f.getEgressDeniedByCount() + f.getIngressDeniedByCount();
    if (n == 0) return List.of();
    List<String> out = new ArrayList<>(n);
    for (Policy p : f.getEgressAllowedByList()) out.add(policyKey("allow", p));
    for (Policy p : f.getIngressAllowedByList()) out.add(policyKey("allow", p));
    for (Policy p : f.getEgressDeniedByList()) out.add(policyKey("deny", p));
    for (Policy p : f.getIngressDeniedByList()) out.add(policyKey("deny", p));
    return out;
  }

  static String policyKey(String effect, Policy p) {
    return effect + ":" + p.getKind() + "/" + p.getNamespace() + "/" + p.getName();
  }
}
