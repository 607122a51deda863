package dev.sieve.relay.support;

import com.google.protobuf.BoolValue;
import dev.sieve.api.flow.DNS;
import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.IPVersion;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Policy;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.TCPFlags;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.UDP;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.flow.Workload;
import dev.sieve.relay.query.Timestamps;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Deterministic, realistic-looking flows for tests and benchmarks. */
public final class TestFlows {
    public static final String[] NAMESPACES = {"production", "development", "kube-system", "monitoring"};
    public static final String[] APPS = {"frontend", "backend", "database", "cache", "dns", "prometheus"};

    private final SplittableRandom rnd;
    private final String node;
    private long timeNanos;
    private long seq;

    public TestFlows(long seed, String node, long startNanos) {
        this.rnd = new SplittableRandom(seed);
        this.node = node;
        this.timeNanos = startNanos;
    }

    public Flow next() {
        timeNanos += 1_000 + rnd.nextInt(50_000);
        seq++;
        int v = rnd.nextInt(100);
        Verdict verdict = v < 80 ? Verdict.FORWARDED : v < 90 ? Verdict.DROPPED : v < 95 ? Verdict.AUDIT : Verdict.REDIRECTED;
        String sns = NAMESPACES[rnd.nextInt(NAMESPACES.length)], dns = NAMESPACES[rnd.nextInt(NAMESPACES.length)];
        String sapp = APPS[rnd.nextInt(APPS.length)], dapp = APPS[rnd.nextInt(APPS.length)];
        boolean tcp = rnd.nextInt(4) != 0;
        int dport = tcp ? new int[] {80, 443, 5432, 6379, 8080}[rnd.nextInt(5)] : 53;
        Flow.Builder f = Flow.newBuilder()
                .setTime(Timestamps.timestamp(timeNanos))
                .setUuid(node + "-" + seq)
                .setVerdict(verdict)
                .setType(FlowType.L3_L4)
                .setNodeName(node)
                .setTrafficDirection(rnd.nextBoolean() ? TrafficDirection.INGRESS : TrafficDirection.EGRESS)
                .setIsReply(BoolValue.of(rnd.nextInt(3) == 0))
                .setIP(IP.newBuilder().setSource("10.0." + rnd.nextInt(4) + "." + (1 + rnd.nextInt(40)))
                        .setDestination("10.1." + rnd.nextInt(4) + "." + (1 + rnd.nextInt(40))).setIpVersion(IPVersion.IPv4))
                .setSource(endpoint(sns, sapp, rnd.nextInt(3)))
                .setDestination(endpoint(dns, dapp, rnd.nextInt(3)));
        int sport = 40000 + rnd.nextInt(100);
        if (tcp) f.setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(sport).setDestinationPort(dport)
                .setFlags(TCPFlags.newBuilder().setSYN(rnd.nextBoolean()).setACK(true))));
        else f.setL4(Layer4.newBuilder().setUDP(UDP.newBuilder().setSourcePort(sport).setDestinationPort(dport)));
        if (verdict == Verdict.DROPPED) {
            f.setDropReasonDesc(rnd.nextInt(4) == 0 ? DropReason.CT_MAP_INSERTION_FAILED : DropReason.POLICY_DENIED);
            f.addIngressDeniedBy(Policy.newBuilder().setKind("CiliumNetworkPolicy").setNamespace(dns).setName("deny-" + sapp));
        } else if (verdict == Verdict.FORWARDED) {
            f.addIngressAllowedBy(Policy.newBuilder().setKind("NetworkPolicy").setNamespace(dns).setName("allow-" + dapp));
        }
        if (!tcp) f.setL7(Layer7.newBuilder().setDns(DNS.newBuilder().setQuery(dapp + "." + dns + ".svc.cluster.local.")));
        else if (dport == 8080) f.setL7(Layer7.newBuilder().setHttp(HTTP.newBuilder().setCode(rnd.nextBoolean() ? 200 : 503).setMethod("GET").setUrl("http://" + dapp + "/api/v1/items")));
        f.addSourceNames(sapp + "." + sns + ".svc.cluster.local");
        return f.build();
    }

    private Endpoint endpoint(String ns, String app, int replica) {
        return Endpoint.newBuilder()
                .setIdentity(1000 + ns.length() * 10 + app.length())
                .setNamespace(ns)
                .setPodName(app + "-7d9f8-" + replica)
                .addLabels("k8s:app=" + app)
                .addLabels("k8s:io.kubernetes.pod.namespace=" + ns)
                .addWorkloads(Workload.newBuilder().setKind("Deployment").setName(app))
                .build();
    }

    public List<Flow> next(int n) {
        List<Flow> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(next());
        return out;
    }

    public long timeNanos() {
        return timeNanos;
    }
}
