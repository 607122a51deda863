package dev.sieve.policy.property;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.PolicyEntry;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Policy;
import dev.sieve.policy.model.PolicyKey;
import dev.sieve.policy.testing.RandomWorld;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Property: applying random changes one by one through the engine's incremental methods (pod label change,
 * pod add and delete, namespace label change, policy upsert and delete) ends in exactly the entries a fresh
 * engine computes from the final state. Identity numbers and rule ids may differ between the two engines, so
 * entries are compared by the peer's labels and the rule's policy and place. A failure prints the seed and
 * the changes; {@code -Dsieve.property.seed=N} replays one world.
 */
class IncrementalEqualsFullPropertyTest {

    static final long SEED = 0x1AC2_E3E7L;
    static final int WORLDS = Integer.getInteger("sieve.property.incremental.worlds", 250);
    static final int CHANGES = 12;

    @Test
    void incrementalChangesEndWhereAFreshLoadStarts() throws Exception {
        Long only = Long.getLong("sieve.property.seed");
        Random seeds = new Random(SEED);
        int worlds = 0;
        for (int w = 0; w < WORLDS; w++) {
            long seed = seeds.nextLong();
            if (only != null && seed != only) continue;
            checkWorld(seed);
            worlds++;
        }
        assertThat(worlds).isPositive();
    }

    private static ManifestSet parse(String what, String yaml) {
        try {
            return ManifestParser.parse(what + ".yaml", yaml);
        } catch (ValidationException e) {
            throw new AssertionError("the generator wrote invalid YAML\n" + e.getMessage() + "\n" + yaml, e);
        }
    }

    private void checkWorld(long seed) {
        Random r = new Random(seed);
        RandomWorld world = new RandomWorld(r);
        String clusterYaml = world.cluster();
        ManifestSet initial = parse("initial", clusterYaml + world.policies(1 + r.nextInt(4)));
        EnforcementMode mode = r.nextInt(8) == 0 ? EnforcementMode.ALWAYS : EnforcementMode.DEFAULT;
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), mode, null);
        engine.load(initial);

        Map<String, Namespace> namespaces = new LinkedHashMap<>();
        Map<String, Pod> pods = new LinkedHashMap<>();
        Map<PolicyKey, Policy> policies = new LinkedHashMap<>();
        initial.namespaces().forEach(n -> namespaces.put(n.name(), n));
        initial.pods().forEach(p -> pods.put(p.key(), p));
        initial.policies().forEach(p -> policies.put(p.key(), p));
        int nextPod = 100;
        List<String> log = new ArrayList<>();
        for (int c = 0; c < CHANGES; c++) {
            switch (r.nextInt(6)) {
                case 0 -> { // pod labels (and annotations, ports) change, same name and addresses
                    if (pods.isEmpty()) continue;
                    Pod old = new ArrayList<>(pods.values()).get(r.nextInt(pods.size()));
                    int index = Integer.parseInt(old.name().substring(1));
                    Pod p = parse("pod", world.pod(old.namespace(), old.name(), index)).pods().getFirst();
                    pods.put(p.key(), p);
                    engine.upsertPod(p);
                    log.add("relabel pod " + p.key() + " " + p.labels());
                }
                case 1 -> {
                    String ns = RandomWorld.NAMESPACES.get(r.nextInt(3));
                    int index = nextPod++;
                    Pod p = parse("pod", world.pod(ns, "p" + index, index)).pods().getFirst();
                    pods.put(p.key(), p);
                    engine.upsertPod(p);
                    log.add("add pod " + p.key() + " " + p.labels());
                }
                case 2 -> {
                    if (pods.isEmpty()) continue;
                    String key = new ArrayList<>(pods.keySet()).get(r.nextInt(pods.size()));
                    pods.remove(key);
                    engine.deletePod(key);
                    log.add("delete pod " + key);
                }
                case 3 -> {
                    Namespace n = parse("ns", world.namespace(RandomWorld.NAMESPACES.get(r.nextInt(3)))).namespaces().getFirst();
                    namespaces.put(n.name(), n);
                    engine.upsertNamespace(n);
                    log.add("relabel namespace " + n.name() + " " + n.labels() + " " + n.annotations());
                }
                case 4 -> { // upsert: a new policy, or a new version of an existing one under the same key
                    Policy p = parse("policy", world.policies(1).replace("name: pol0", "name: pol" + r.nextInt(6))).policies().getFirst();
                    policies.put(p.key(), p);
                    engine.upsertPolicy(p);
                    log.add("upsert policy " + p.key());
                }
                default -> {
                    if (policies.isEmpty()) continue;
                    PolicyKey k = new ArrayList<>(policies.keySet()).get(r.nextInt(policies.size()));
                    policies.remove(k);
                    engine.deletePolicy(k);
                    log.add("delete policy " + k);
                }
            }
        }
        ManifestSet fin = ManifestSet.empty();
        fin.namespaces().addAll(namespaces.values());
        fin.pods().addAll(pods.values());
        fin.policies().addAll(policies.values());
        fin.services().addAll(initial.services());
        fin.nodes().addAll(initial.nodes());
        fin.apiServerIps().addAll(initial.apiServerIps());
        PolicyEngine fresh = new PolicyEngine(new LocalIdentityAllocator(), mode, null);
        fresh.load(fin);

        assertThat(snapshot(engine)).as("seed %d (replay with -Dsieve.property.seed=%d); changes:\n  %s\n", seed, seed, String.join("\n  ", log))
                .isEqualTo(snapshot(fresh));
    }

    /** Per pod: identity labels, enforcement and audit state, and every entry with peers and rules by name. */
    static Map<String, String> snapshot(PolicyEngine e) {
        Map<String, String> out = new TreeMap<>();
        for (var ep : e.endpoints()) {
            EndpointPolicy pol = e.policyOf(ep.key());
            StringBuilder sb = new StringBuilder("identity " + ep.identity().labels() + " audit=" + pol.audit());
            for (Direction d : Direction.values()) {
                sb.append("\n").append(d).append(" enforced=").append(pol.enforced(d));
                List<String> entries = new ArrayList<>();
                for (PolicyEntry en : pol.entries(d)) {
                    Identity peer = en.peerIdentity() == 0 ? null : e.identity(en.peerIdentity());
                    RuleInfo rule = e.rules().lookup(en.ruleId());
                    entries.add((en.peerIdentity() == 0 ? "any" : peer == null ? "MISSING identity " + en.peerIdentity() : peer.labels().toString())
                            + " proto=" + en.protocol() + " ports=" + en.portLow() + "-" + en.portHigh() + " " + en.action()
                            + " by " + (rule == null ? "MISSING rule " + en.ruleId() : rule.policy() + " " + rule.path())
                            + (en.l7() == null ? "" : " l7=" + en.l7()));
                }
                entries.sort(null);
                for (String s : entries) sb.append("\n  ").append(s);
            }
            out.put(ep.key(), sb.toString());
        }
        return out;
    }
}
