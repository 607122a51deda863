package dev.sieve.enforcer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.lab.Traffic;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.policy.trace.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * trace and the datapath agree: random policies over four pods in two namespaces and two world
 * hosts; for a few hundred random (source, destination, port, protocol) combinations, the real
 * packet's fate (dropped or not) and the deciding rule of its verdict event equal what
 * {@link Tracer} says. Probes of different sources run in parallel; each combination is probed
 * once per round, so its events are its own.
 */
class TraceAgreementE2ETest {
    static final long SEED = Long.getLong("sieve.e2e.seed", System.nanoTime());
    static final int ROUNDS = 3;
    static final int PROBES_PER_ROUND = 100;
    static final int[] PORTS = {80, 443, 8080, 9090};
    static final Duration DROP_WAIT = Duration.ofMillis(500);

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: alpha, labels: {team: a}}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: beta, labels: {team: b}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: alpha, labels: {app: web}}
            status: {podIP: 10.244.1.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: db, namespace: alpha, labels: {app: db}}
            status: {podIP: 10.244.1.20}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: beta, labels: {app: web}}
            status: {podIP: 10.244.2.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: client, namespace: beta, labels: {app: client}}
            status: {podIP: 10.244.2.20}
            ---
            apiVersion: v1
            kind: Node
            metadata: {name: node-1}
            status: {addresses: [{type: InternalIP, address: NODE_IP}]}
            """.replace("NODE_IP", Lab.NODE_IPV4);

    static EngineLab l;
    static final List<String> HOSTS = List.of("alpha/web", "alpha/db", "beta/web", "beta/client", "w1", "w2");

    @BeforeAll
    static void setUp() {
        l = EngineLab.start(CLUSTER, new LinkedHashMap<>(Map.of("w1", "198.51.100.1", "w2", "198.51.100.130")));
        l.serve(HOSTS, PORTS);
    }

    @AfterAll
    static void tearDown() {
        if (l != null) {
            l.close();
        }
    }

    record Probe(String src, String dst, Protocol proto, int port) {
        @Override
        public String toString() {
            return src + " -> " + dst + " " + (proto == Protocol.ICMP ? "ICMP echo" : port + "/" + proto);
        }
    }

    @Test
    void traceAndDatapathAgreeOnRandomTraffic() throws Exception {
        Random rnd = new Random(SEED);
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        int probes = 0, dropped = 0;
        ExecutorService pool = Executors.newFixedThreadPool(HOSTS.size());
        try {
            for (int round = 0; round < ROUNDS; round++) {
                List<String> policies = RandomPolicies.generate(rnd, 3 + rnd.nextInt(3));
                l.apply(policies.toArray(String[]::new));
                l.reset();
                Tracer tracer = new Tracer(l.engine);
                List<Probe> all = new ArrayList<>();
                for (String s : HOSTS) for (String d : HOSTS) {
                    if (s.equals(d) || !s.contains("/") && !d.contains("/")) continue;
                    for (int p : PORTS) {
                        all.add(new Probe(s, d, Protocol.TCP, p));
                        all.add(new Probe(s, d, Protocol.UDP, p));
                    }
                    all.add(new Probe(s, d, Protocol.ICMP, 8));
                }
                Collections.shuffle(all, rnd);
                List<Probe> chosen = all.subList(0, Math.min(PROBES_PER_ROUND, all.size()));
                Map<String, List<Probe>> bySource = new LinkedHashMap<>();
                for (Probe p : chosen) bySource.computeIfAbsent(p.src(), k -> new ArrayList<>()).add(p);
                Map<Probe, TraceResult> traces = new LinkedHashMap<>();
                for (Probe p : chosen) {
                    traces.put(p, tracer.trace(new TraceRequest("ip:" + ip(p.src()), "ip:" + ip(p.dst()), p.port(), p.proto(), null, null, null)));
                }
                Map<Probe, Traffic.Outcome> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
                List<Future<?>> running = new ArrayList<>();
                for (List<Probe> ps : bySource.values()) {
                    running.add(pool.submit(() -> {
                        for (Probe p : ps) outcomes.put(p, run(p, DROP_WAIT));
                    }));
                }
                for (Future<?> f : running) f.get();
                String context = "round " + round + " (seed " + SEED + ") policies:\n" + String.join("\n---\n", policies);
                for (Probe p : chosen) {
                    TraceResult t = traces.get(p);
                    boolean traceDrops = t.verdict() == Verdict.DROPPED;
                    Traffic.Outcome o = outcomes.get(p);
                    if (!traceDrops && o != Traffic.Outcome.PASSED) {
                        o = run(p, Duration.ofSeconds(3)); // a slow allowed exchange, not a drop?
                    }
                    probes++;
                    if (traceDrops) dropped++;
                    boolean dpDrops = o != Traffic.Outcome.PASSED;
                    if (dpDrops != traceDrops) {
                        problems.add(p + ": trace " + t.verdict() + " (" + t.reason() + ") but the packet " + o);
                        continue;
                    }
                    String why = check(p, t, tracer);
                    if (why != null) problems.add(p + ": " + why);
                }
                if (!problems.isEmpty()) {
                    problems.add(context);
                    break;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(problems).as("disagreements (seed " + SEED + ")").isEmpty();
        assertThat(probes).isGreaterThanOrEqualTo(ROUNDS * PROBES_PER_ROUND);
        assertThat(dropped).as("both outcomes are exercised").isBetween(1, probes - 1);
        System.out.printf("trace agreement: %d probes (%d dropped) in %d rounds, seed %d%n", probes, dropped, ROUNDS, SEED);
    }

    static String ip(String host) {
        return l.host(host).ipv4();
    }

    static Traffic.Outcome run(Probe p, Duration wait) {
        Pod from = l.host(p.src());
        return switch (p.proto()) {
            case TCP -> Traffic.tcp(from, ip(p.dst()), p.port(), wait);
            case UDP -> Traffic.udp(from, ip(p.dst()), p.port(), wait);
            default -> Traffic.ping(from, ip(p.dst()), wait);
        };
    }

    /** The events of the probe against the trace: verdict, direction, identities and deciding rule; null when they agree. */
    static String check(Probe p, TraceResult t, Tracer tracer) {
        int proto = p.proto().number;
        int dport = p.proto() == Protocol.ICMP ? -1 : p.port();
        var flow = EngineLab.flow(ip(p.src()), ip(p.dst()), proto, dport);
        List<Object[]> expected = new ArrayList<>(); // direction, verdict, rule text
        boolean srcPod = p.src().contains("/"), dstPod = p.dst().contains("/");
        if (t.verdict() == Verdict.DROPPED) {
            if (t.egress().verdict() == Verdict.DROPPED) expected.add(new Object[] {Direction.EGRESS, VerdictEvent.DROPPED, t.egress()});
            else expected.add(new Object[] {Direction.INGRESS, VerdictEvent.DROPPED, t.ingress()});
        } else {
            if (srcPod) expected.add(new Object[] {Direction.EGRESS, VerdictEvent.FORWARDED, t.egress()});
            if (dstPod) expected.add(new Object[] {Direction.INGRESS, VerdictEvent.FORWARDED, t.ingress()});
        }
        for (Object[] x : expected) {
            Direction d = (Direction) x[0];
            int v = (int) x[1];
            TraceResult.DirectionResult dr = (TraceResult.DirectionResult) x[2];
            VerdictEvent e;
            try {
                e = l.await(VerdictEvent.verdictName(v) + " " + d + " for " + p, flow.and(ev -> ev.direction() == d && ev.verdict() == v));
            } catch (AssertionError err) {
                return "trace " + t.verdict() + " but no " + VerdictEvent.verdictName(v) + " event at " + d + " (" + t.reason() + ")";
            }
            String eventRule = tracer.ruleName(e.ruleId());
            if (!java.util.Objects.equals(eventRule, dr.rule())) {
                return d + " rule: event says " + e.ruleId() + " = " + eventRule + ", trace says " + dr.rule() + " (" + e + ")";
            }
            if (v == VerdictEvent.DROPPED && e.dropReason() != dr.dropReason()) {
                return d + " drop reason: event " + e.dropReason() + ", trace " + dr.dropReason();
            }
            if (e.srcIdentity() != t.source().identity() || e.dstIdentity() != t.destination().identity()) {
                return "identities: event " + e.srcIdentity() + " -> " + e.dstIdentity() + ", trace "
                        + t.source().identity() + " -> " + t.destination().identity();
            }
        }
        return null;
    }
}
