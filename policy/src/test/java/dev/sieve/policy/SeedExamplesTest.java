package dev.sieve.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.testing.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every seed example parses, validates and computes against the demo cluster. */
class SeedExamplesTest {

    @Test
    void examplesMatchTheSeed() throws Exception {
        Path seed = Path.of(System.getProperty("sieve.seed.dir", "../../shared/seed/examples"));
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(seed), "the seed folder is not beside the checkout");
        try (Stream<Path> s = Files.list(seed)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                Path copy = Scenario.examples().resolve("policies").resolve(f.getFileName().toString());
                assertThat(copy).exists();
                assertThat(Files.readString(copy)).as(copy.toString()).isEqualTo(Files.readString(f));
            }
        }
    }

    @Test
    void everyExampleParses() throws Exception {
        ManifestSet set = ManifestParser.load(List.of(Scenario.examples()));
        assertThat(set.policies()).extracting(p -> p.key().displayName()).containsExactlyInAnyOrder(
                "production/allow-frontend-to-backend", "production/api-http-filter", "data-pipeline/allow-s3-egress",
                "production/deny-dev-to-prod-db", "messaging/kafka-topic-control", "baseline-deny-world-egress",
                "allow-kube-apiserver", "production/backend-ingress");
        assertThat(set.pods()).hasSizeGreaterThanOrEqualTo(14);
    }

    @Test
    void everyExampleComputesForEveryEndpoint() {
        Scenario s = Scenario.load(List.of(Scenario.examples()), dev.sieve.policy.compute.EnforcementMode.DEFAULT);
        for (var ep : s.engine.endpoints()) {
            EndpointPolicy pol = s.engine.policyOf(ep.key());
            assertThat(pol).isNotNull();
            // the clusterwide baseline selects every pod for egress
            assertThat(pol.enforced(Direction.EGRESS)).as(ep.key()).isTrue();
        }
        EndpointPolicy backend = s.engine.policyOf("production/backend");
        assertThat(backend.enforced(Direction.INGRESS)).isTrue();
        assertThat(backend.entries(Direction.INGRESS)).isNotEmpty();
    }
}
