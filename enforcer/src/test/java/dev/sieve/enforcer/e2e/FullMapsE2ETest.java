package dev.sieve.enforcer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.datapath.BpfAssumptions;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.EndpointConfig;
import dev.sieve.enforcer.datapath.MapSizes;
import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.ManifestLab;
import dev.sieve.lab.Pod;
import dev.sieve.lab.Traffic;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * F5: a full ipcache, policy or endpoint map (small configured sizes) never leaves an endpoint open. Three pods that
 * may talk on TCP 80 and nothing else, programmed by the real {@link EndpointManager} into a datapath whose map is
 * one entry too small: each failure is reported and counted, every endpoint is either fully enforced (80 passes,
 * 81 is dropped) or drops everything with DROP_EP_NOT_READY (203), real packets show it, and the map's pressure
 * reads 1. Also: pinned entries of an endpoint whose interface is gone are collected on the first sync.
 */
class FullMapsE2ETest {
    static final String NODE = "node-1";
    static final int EP_NOT_READY = 203;
    static final Duration WAIT = Duration.ofMillis(600);
    static final List<String> PODS = List.of("fm/a", "fm/b", "fm/c");
    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: fm}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: a, namespace: fm, labels: {app: a}}
            status: {podIP: 10.246.0.11, podIPs: [{ip: 10.246.0.11}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: b, namespace: fm, labels: {app: b}}
            status: {podIP: 10.246.0.12, podIPs: [{ip: 10.246.0.12}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: c, namespace: fm, labels: {app: c}}
            status: {podIP: 10.246.0.13, podIPs: [{ip: 10.246.0.13}]}
            """;
    static final String POLICY = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: port-80, namespace: fm}
            spec:
              endpointSelector: {}
              ingress:
                - fromEndpoints: [{}]
                  toPorts: [{ports: [{port: "80", protocol: TCP}]}]
              egress:
                - toEndpoints: [{}]
                  toPorts: [{ports: [{port: "80", protocol: TCP}]}]
            """;

    static Lab lab;
    static Map<String, Pod> pods;
    static final List<BackgroundProcess> servers = new ArrayList<>();
    /** What the three endpoints need with ample maps: total policy keys, ipcache entries. */
    static int policyKeys;
    static int ipcacheEntries;

    @BeforeAll
    static void setUp() {
        BpfAssumptions.assumeBpfUsable();
        lab = Lab.create();
        pods = ManifestLab.populate(lab, EngineLab.parse(CLUSTER));
        for (String p : PODS) servers.add(Traffic.startEchoServer(pods.get(p), 80, 81));
        try (Node n = new Node("ref", MapSizes.DEFAULT)) {
            EndpointManager.SyncReport r = n.sync();
            assertThat(r.errors()).isEmpty();
            for (String p : PODS) policyKeys += n.dp.policyKeys(n.manager.endpointId(p)).size();
            ipcacheEntries = n.dp.ipcache().size();
        }
        assertThat(policyKeys).as("policy keys of three endpoints").isGreaterThanOrEqualTo(6);
    }

    @AfterAll
    static void tearDown() {
        servers.forEach(BackgroundProcess::close);
        if (lab != null) lab.close();
    }

    @Test
    void aFullPolicyMapLeavesEachEndpointEnforcedOrDropping() {
        try (Node n = new Node("pol", MapSizes.DEFAULT.withPolicy(policyKeys - 1))) {
            EndpointManager.SyncReport r = n.sync();
            assertThat(r.errors()).as("the failure is reported").isNotEmpty();
            assertThat(n.manager.syncErrors()).isPositive();
            assertThat(n.manager.attached()).as("every endpoint attached (enforced or dropping)").hasSize(3);
            int notReady = n.manager.notReadyEndpoints();
            assertThat(notReady).as("some endpoints fit, at least one did not").isBetween(1, 2);
            assertThat(n.dp.mapPressure().get("sieve_policy")).isEqualTo(1.0);
            n.checkEveryPair(ep -> n.dp.endpoint(n.manager.endpointId(ep)).orElseThrow().notReady());

            // room again (no policy: nothing to enforce): the next sync programs every endpoint
            n.engine.sync(EngineLab.parse(CLUSTER));
            assertThat(n.sync().errors()).isEmpty();
            assertThat(n.manager.notReadyEndpoints()).isZero();
            assertThat(Traffic.tcp(pods.get("fm/a"), ip("fm/c"), 81, WAIT)).isEqualTo(Traffic.Outcome.PASSED);
        }
    }

    @Test
    void aFullEndpointMapLeavesTheEndpointsThatDoNotFitDropping() {
        try (Node n = new Node("ep", MapSizes.DEFAULT.withEndpoints(2))) {
            EndpointManager.SyncReport r = n.sync();
            assertThat(r.errors()).hasSize(1);
            assertThat(n.manager.notReadyEndpoints()).isEqualTo(1);
            assertThat(n.manager.attached()).hasSize(3);
            assertThat(n.dp.mapPressure().get("sieve_endpoints_v2")).isEqualTo(1.0);
            n.checkEveryPair(ep -> !n.dp.endpoint(n.manager.endpointId(ep)).isPresent());
        }
    }

    @Test
    void aFullIpcacheLeavesEveryEndpointDropping() {
        try (Node n = new Node("ipc", MapSizes.DEFAULT.withIpcache(ipcacheEntries - 1))) {
            EndpointManager.SyncReport r = n.sync();
            assertThat(r.errors()).as("the ipcache entry and every endpoint").hasSizeGreaterThanOrEqualTo(4);
            assertThat(n.manager.notReadyEndpoints()).isEqualTo(3);
            assertThat(n.dp.mapPressure().get("sieve_ipcache")).isEqualTo(1.0);
            n.checkEveryPair(ep -> true);
        }
    }

    @Test
    void pinnedEntriesOfEndpointsThatAreGoneAreCollected() {
        int gone = 60_123; // no interface has this index
        try (Node n = new Node("gc", MapSizes.DEFAULT)) {
            n.dp.setEndpoint(gone, new EndpointConfig(gone, 4242, true, true, false));
            n.dp.applyPolicy(gone, List.of(new PolicyMapEntry(Direction.INGRESS, 4243, 6, 80, 80, Action.ALLOW, 0, 7)));
            assertThat(n.dp.policyKeys(gone)).isNotEmpty();
            assertThat(n.sync().errors()).isEmpty();
            assertThat(n.dp.endpoint(gone)).as("endpoint entry collected").isEmpty();
            assertThat(n.dp.policyKeys(gone)).as("policy keys collected").isEmpty();
            assertThat(n.manager.staleCollected()).isEqualTo(1);
            for (String p : PODS) assertThat(n.dp.endpoint(n.manager.endpointId(p))).as("live endpoint " + p).isPresent();
        }
    }

    static String ip(String pod) {
        return pods.get(pod).ipv4();
    }

    /** A datapath with its own pins and sizes, the engine with the cluster and the policy, and its events. */
    static final class Node implements AutoCloseable {
        final DatapathConfig config;
        final Datapath dp;
        final PolicyEngine engine;
        final EndpointManager manager;
        final VerdictEventReader reader;
        final ConcurrentLinkedQueue<VerdictEvent> events = new ConcurrentLinkedQueue<>();

        Node(String name, MapSizes sizes) {
            config = DatapathConfig.of("fm" + name + "-" + lab.prefix()).withNetns(NetNs.named(lab.nodeNamespace()))
                    .withMapSizes(sizes);
            try {
                dp = BpfAssumptions.openOrSkip(config);
            } catch (RuntimeException | Error e) {
                Datapath.unpinAll(config); // a failed load leaves the pin directory
                throw e;
            }
            reader = dp.openEventReader(e -> events.add(e.toEvent()));
            engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, NODE);
            ManifestSet set = EngineLab.parse(CLUSTER, POLICY);
            engine.load(set);
            manager = new EndpointManager(dp, NODE, 15001);
        }

        EndpointManager.SyncReport sync() {
            return manager.sync(engine);
        }

        /**
         * Every ordered pair of pods, with real TCP: port 80 passes exactly when both ends are fully programmed
         * (else a 203 drop is reported), port 81 never passes.
         */
        void checkEveryPair(Function<String, Boolean> droppingExpected) {
            for (String from : PODS) {
                for (String to : PODS) {
                    if (from.equals(to)) continue;
                    boolean fromDrops = dp.endpoint(manager.endpointId(from)).map(i -> i.notReady()).orElse(true);
                    boolean toDrops = dp.endpoint(manager.endpointId(to)).map(i -> i.notReady()).orElse(true);
                    assertThat(fromDrops || toDrops ? true : false).as("expectation of " + from + " -> " + to)
                            .isEqualTo(droppingExpected.apply(from) || droppingExpected.apply(to));
                    events.clear();
                    Traffic.Outcome o80 = Traffic.tcp(pods.get(from), ip(to), 80, WAIT);
                    Traffic.Outcome o81 = Traffic.tcp(pods.get(from), ip(to), 81, WAIT);
                    assertThat(o81).as(from + " -> " + to + ":81 is never allowed").isEqualTo(Traffic.Outcome.TIMED_OUT);
                    if (fromDrops || toDrops) {
                        assertThat(o80).as(from + " -> " + to + ":80, an end not ready").isEqualTo(Traffic.Outcome.TIMED_OUT);
                        reader.drain();
                        assertThat(events).as("a DROP_EP_NOT_READY event for " + from + " -> " + to)
                                .anyMatch(e -> e.verdict() == VerdictEvent.DROPPED && e.dropReason() == EP_NOT_READY
                                        && e.dstPort() == 80 && EngineLab.same(e.destination(), ip(to)));
                    } else {
                        assertThat(o80).as(from + " -> " + to + ":80, both ends enforced").isEqualTo(Traffic.Outcome.PASSED);
                    }
                }
            }
        }

        @Override
        public void close() {
            for (String ifname : manager.attached().values()) {
                try {
                    dp.detach(ifname);
                } catch (RuntimeException ignored) {
                    // the lab goes next anyway
                }
            }
            reader.close();
            dp.close();
            Datapath.unpinAll(config);
            assertThat(java.nio.file.Files.exists(config.pinDir())).as("pinned maps removed").isFalse();
        }
    }
}
