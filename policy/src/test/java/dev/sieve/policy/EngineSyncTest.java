package dev.sieve.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.testing.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PolicyEngine#sync} reaches the same state as a fresh load, touching only what changed. */
class EngineSyncTest {

    @Test
    void syncEqualsFreshLoad(@TempDir Path dir) throws Exception {
        Path cluster = Scenario.examples().resolve("cluster/cluster.yaml");
        Path policies = Scenario.examples().resolve("policies");
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        engine.load(ManifestParser.load(List.of(cluster, policies)));
        int frontendId = engine.endpoint("production/frontend").identity().id();
        int ruleId = engine.policyOf("production/backend").entries(Direction.INGRESS).getFirst().ruleId();

        // the dev client moves to production, one policy goes away, everything else stays
        String text = Files.readString(cluster).replace("  name: dev-client\n  namespace: development", "  name: dev-client\n  namespace: production");
        Path changed = dir.resolve("cluster.yaml");
        Files.writeString(changed, text);
        Path kept = dir.resolve("policies");
        Files.createDirectory(kept);
        try (var files = Files.list(policies)) {
            for (Path f : files.filter(f -> !f.getFileName().toString().startsWith("06")).toList()) Files.copy(f, kept.resolve(f.getFileName()));
        }
        ManifestSet next = ManifestParser.load(List.of(changed, kept));
        engine.sync(next);

        PolicyEngine fresh = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        fresh.load(next);
        for (var ep : fresh.endpoints()) {
            var a = engine.policyOf(ep.key());
            var b = fresh.policyOf(ep.key());
            assertThat(a).as(ep.key()).isNotNull();
            for (Direction d : Direction.values()) {
                assertThat(a.enforced(d)).as(ep.key() + " " + d).isEqualTo(b.enforced(d));
                assertThat(a.entries(d).size()).as(ep.key() + " " + d).isEqualTo(b.entries(d).size());
            }
        }
        assertThat(engine.endpoint("development/dev-client")).isNull();
        assertThat(engine.endpoint("production/dev-client")).isNotNull();
        // unchanged pods keep their identity, unchanged rules their number
        assertThat(engine.endpoint("production/frontend").identity().id()).isEqualTo(frontendId);
        assertThat(engine.policyOf("production/backend").entries(Direction.INGRESS).getFirst().ruleId()).isEqualTo(ruleId);
        // the clusterwide baseline is gone: frontend egress is no longer under policy
        assertThat(engine.policyOf("production/frontend").enforced(Direction.EGRESS)).isFalse();
    }
}
