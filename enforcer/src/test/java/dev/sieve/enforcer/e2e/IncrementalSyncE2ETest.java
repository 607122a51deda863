package dev.sieve.enforcer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.maps.IpPrefix;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import dev.sieve.lab.Lab;
import dev.sieve.policy.net.Cidr;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The incremental path for learned addresses ({@link EndpointManager#syncAddresses}) against the full sync, map for
 * map, in the real kernel maps: after every learn or forget written incrementally, a full sync must find nothing to
 * change and the maps must be what they were. The policies make learned addresses interesting: toFQDNs of two
 * subjects (an address both learn changes identity), the seed's cluster-wide deny of the world (deny keys on every
 * FQDN identity), a CIDR rule that covers some learned addresses, and an L7 redirect.
 */
class IncrementalSyncE2ETest {

    static final String FQDN_POLICIES = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: dev-fqdn
              namespace: development
            spec:
              endpointSelector:
                matchLabels:
                  app: dev-client
              egress:
                - toFQDNs:
                    - matchPattern: "*.example.com"
                  toPorts:
                    - ports:
                        - port: "8000"
                          endPort: 8100
                          protocol: TCP
                - toCIDR:
                    - 203.0.113.0/28
                  toPorts:
                    - ports:
                        - port: "80"
                          protocol: TCP
                      rules:
                        http:
                          - method: GET
            """;

    static EngineLab l;

    @BeforeAll
    static void setUp() {
        String cluster = EngineLab.read("examples/cluster/cluster.yaml")
                .replace("address: 10.250.0.1", "address: " + Lab.NODE_IPV4);
        l = EngineLab.start(cluster, Map.of());
        l.apply(EngineLab.read("examples/policies/03-allow-s3-egress.yaml"), EngineLab.read("examples/policies/06-baseline-clusterwide.yaml"),
                EngineLab.read("examples/policies/01-allow-frontend-to-backend.yaml"), FQDN_POLICIES);
    }

    @AfterAll
    static void tearDown() {
        if (l != null) l.close();
    }

    @Test
    void learnedAddressesWrittenIncrementallyEqualTheFullSyncMapForMap() {
        int uploader = l.identity("data-pipeline/uploader");
        int dev = l.identity("development/dev-client");
        List<String> names = List.of("s3.amazonaws.com", "bucket.s3.amazonaws.com", "api.example.com", "www.example.com", "other.org");
        List<String> addresses = List.of("203.0.113.1", "203.0.113.2", "203.0.113.20", "198.51.100.7", "2001:db8:77::1", "2001:db8:77::2");
        Set<String> learned = new HashSet<>(); // subject|name|address
        Random random = new Random(15);
        long incrementalBefore = l.manager.incrementalSyncs();
        long fullBefore = l.manager.fullSyncs();
        int keyChanges = 0;
        for (int step = 0; step < 120; step++) {
            int subject = random.nextBoolean() ? uploader : dev;
            String name = names.get(random.nextInt(names.size()));
            String address = addresses.get(random.nextInt(addresses.size()));
            String key = subject + "|" + name + "|" + address;
            Cidr host = Cidr.host(Cidr.parseAddress(address));
            long generation = l.engine.generation();
            Integer before = l.engine.ipcache().get(host);
            if (learned.remove(key)) l.engine.forgetFqdn(subject, name, address);
            else if (learned.add(key)) l.engine.learnFqdn(subject, name, address);
            Integer after = l.engine.ipcache().get(host);
            Set<Integer> peers = new HashSet<>();
            if (before != null) peers.add(before);
            if (after != null) peers.add(after);
            EndpointManager.SyncReport r = l.manager.syncAddresses(l.engine, generation, Set.of(host), peers);
            assertThat(r.errors()).isEmpty();
            keyChanges += r.policyChanges();
            if (step % 10 == 9) {
                Maps incremental = Maps.read();
                EndpointManager.SyncReport full = l.sync();
                assertThat(full.policyChanges()).as("policy keys the full sync changed after step " + step).isZero();
                assertThat(full.ipcacheChanges()).as("ipcache entries the full sync changed after step " + step).isZero();
                Maps recomputed = Maps.read();
                assertThat(incremental.ipcache).as("ipcache after step " + step).isEqualTo(recomputed.ipcache);
                assertThat(incremental.policy).as("policy maps after step " + step).isEqualTo(recomputed.policy);
            }
        }
        assertThat(l.manager.incrementalSyncs() - incrementalBefore).as("passes that took the incremental path").isEqualTo(120);
        assertThat(l.manager.fullSyncs() - fullBefore).as("full syncs: only the test's own comparisons").isEqualTo(12);
        assertThat(keyChanges).as("policy keys the incremental path wrote (the test must exercise it)").isGreaterThan(100);
    }

    @Test
    void aStaleGenerationFallsBackToTheFullSync() {
        int uploader = l.identity("data-pipeline/uploader");
        long generation = l.engine.generation() - 1; // the maps were not in step with this one
        l.engine.learnFqdn(uploader, "late.amazonaws.com", "198.51.100.9");
        Cidr host = Cidr.host(Cidr.parseAddress("198.51.100.9"));
        long full = l.manager.fullSyncs();
        l.manager.syncAddresses(l.engine, generation, Set.of(host), Set.of(l.engine.ipcache().get(host)));
        assertThat(l.manager.fullSyncs()).isEqualTo(full + 1);
        assertThat(l.sync().policyChanges()).isZero();
        l.engine.forgetFqdn(uploader, "late.amazonaws.com", "198.51.100.9");
        l.sync();
    }

    /** The kernel's ipcache and every attached endpoint's policy keys. */
    record Maps(Map<String, Integer> ipcache, Map<Integer, Map<PolicyKey, PolicyValue>> policy) {
        static Maps read() {
            Map<String, Integer> ipcache = new TreeMap<>();
            for (Map.Entry<IpPrefix, Integer> e : l.dp.ipcache().entrySet()) ipcache.put(e.getKey().toString(), e.getValue());
            Map<Integer, Map<PolicyKey, PolicyValue>> policy = new LinkedHashMap<>();
            for (String pod : new TreeMap<>(l.manager.attached()).keySet()) {
                int ifindex = l.manager.endpointId(pod);
                policy.put(ifindex, new HashMap<>(l.dp.policyKeys(ifindex)));
            }
            return new Maps(ipcache, policy);
        }
    }
}
