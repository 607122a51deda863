package dev.sieve.observer;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** A small cluster (frontend, backend, database, a world peer) and verdict events between them. */
public final class Fixtures {

    public static final long T0 = 1_700_000_000_000_000_000L; // 2023-11-14T22:13:20Z

    public static final int FRONTEND = 1001, BACKEND = 1002, DB = 1003, WORLD = 2;
    public static final int RULE_ALLOW_FE_BE = 7, RULE_DENY_DEV_DB = 9;

    private Fixtures() {}

    public static StaticResolver resolver() {
        return new StaticResolver()
                .identity(FRONTEND, "k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop", "k8s:tier=web")
                .identity(BACKEND, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=shop", "k8s:tier=api")
                .identity(DB, "k8s:app=database", "k8s:io.kubernetes.pod.namespace=production")
                .identity(WORLD, "reserved:world")
                .pod("10.0.1.10", "shop", "frontend-7d4b9c8f6d-x2x9k", new EndpointResolver.Workload("frontend", "Deployment"))
                .pod("10.0.1.20", "shop", "backend-0")
                .pod("10.0.2.30", "production", "database-0")
                .pod("fd00::10", "shop", "frontend-v6")
                .pod("fd00::20", "shop", "backend-v6")
                .rule(RULE_ALLOW_FE_BE, new EndpointResolver.PolicyRef("CiliumNetworkPolicy", "shop", "allow-frontend-to-backend",
                        List.of("k8s:io.cilium.k8s.policy.derived-from=CiliumNetworkPolicy",
                                "k8s:io.cilium.k8s.policy.name=allow-frontend-to-backend",
                                "k8s:io.cilium.k8s.policy.namespace=shop"), 3, false))
                .rule(RULE_DENY_DEV_DB, new EndpointResolver.PolicyRef("CiliumClusterwideNetworkPolicy", "", "deny-dev-to-db",
                        List.of("k8s:io.cilium.k8s.policy.derived-from=CiliumClusterwideNetworkPolicy",
                                "k8s:io.cilium.k8s.policy.name=deny-dev-to-db"), 3, true));
    }

    /** An enricher on node "node-1" whose event timestamps are nanoseconds since the epoch. */
    public static FlowEnricher enricher() {
        return new FlowEnricher(resolver(), "node-1", ts -> ts);
    }

    public static byte[] ip(String s) {
        try {
            return InetAddress.getByName(s).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    public static VerdictEvent event(long ts, String src, int sport, String dst, int dport, int proto, int srcId, int dstId,
                                     int verdict, int reason, int rule, Direction dir, int tcpFlags, int flags, int icmpType, int icmpCode) {
        byte[] s = ip(src), d = ip(dst);
        return new VerdictEvent(ts, s.length == 16 ? 6 : 4, s, d, sport, dport, proto, srcId, dstId, verdict, reason, rule,
                dir, tcpFlags, flags, icmpType, icmpCode, 60, 7, 42, 0);
    }

    /** frontend -> backend:8080 SYN, allowed at backend's ingress by rule 7 (new connection). */
    public static VerdictEvent allowedSyn(long ts) {
        return event(ts, "10.0.1.10", 40000, "10.0.1.20", 8080, 6, FRONTEND, BACKEND, VerdictEvent.FORWARDED, 0,
                RULE_ALLOW_FE_BE, Direction.INGRESS, 0x02, VerdictEvent.FLAG_NEW, 0, 0);
    }

    /** backend -> database:5432 SYN, dropped at backend's egress by deny rule 9. */
    public static VerdictEvent deniedSyn(long ts) {
        return event(ts, "10.0.1.20", 41000, "10.0.2.30", 5432, 6, BACKEND, DB, VerdictEvent.DROPPED,
                VerdictEvent.POLICY_DENY, RULE_DENY_DEV_DB, Direction.EGRESS, 0x02, VerdictEvent.FLAG_NEW, 0, 0);
    }

    /** frontend -> world DNS over UDP, dropped by default deny (no rule). */
    public static VerdictEvent droppedUdp(long ts) {
        return event(ts, "10.0.1.10", 53000, "8.8.8.8", 53, 17, FRONTEND, WORLD, VerdictEvent.DROPPED,
                VerdictEvent.POLICY_DENIED, 0, Direction.EGRESS, 0, VerdictEvent.FLAG_NEW, 0, 0);
    }

    /** backend -> frontend reply SYN-ACK, established traffic at frontend's ingress. */
    public static VerdictEvent replySynAck(long ts) {
        return event(ts, "10.0.1.20", 8080, "10.0.1.10", 40000, 6, BACKEND, FRONTEND, VerdictEvent.FORWARDED, 0,
                0, Direction.INGRESS, 0x12, VerdictEvent.FLAG_REPLY, 0, 0);
    }

    /** frontend-v6 -> backend-v6 ICMPv6 echo request, allowed at egress. */
    public static VerdictEvent ping6(long ts) {
        return event(ts, "fd00::10", 5, "fd00::20", 5, 58, FRONTEND, BACKEND, VerdictEvent.FORWARDED, 0,
                RULE_ALLOW_FE_BE, Direction.EGRESS, 0, VerdictEvent.FLAG_NEW, 128, 0);
    }

    /** frontend -> backend ICMPv4 echo request, allowed at ingress, no rule (no policy selects it). */
    public static VerdictEvent ping4(long ts) {
        return event(ts, "10.0.1.10", 9, "10.0.1.20", 9, 1, FRONTEND, BACKEND, VerdictEvent.FORWARDED, 0,
                0, Direction.INGRESS, 0, VerdictEvent.FLAG_NEW, 8, 0);
    }

    /** frontend -> backend SCTP audit verdict. */
    public static VerdictEvent sctpAudit(long ts) {
        return event(ts, "10.0.1.10", 3868, "10.0.1.20", 3868, 132, FRONTEND, BACKEND, VerdictEvent.AUDIT, 0,
                0, Direction.INGRESS, 0, VerdictEvent.FLAG_NEW | VerdictEvent.FLAG_AUDIT, 0, 0);
    }
}
