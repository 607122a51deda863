package dev.sieve.policy.compute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.net.Cidr;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the DNS proxy teaches the engine opens addresses for the identity that asked, and only for it. */
class LearnedFqdnTest {

    @TempDir
    Path dir;

    PolicyEngine engine() throws Exception {
        String s3 = Files.readString(Path.of("../examples/policies/03-allow-s3-egress.yaml"));
        Files.writeString(dir.resolve("03.yaml"), s3);
        Files.writeString(dir.resolve("03-other.yaml"), s3.replace("name: allow-s3-egress", "name: other").replace("app: uploader", "app: reporter"));
        Files.writeString(dir.resolve("pods.yaml"), """
                apiVersion: v1
                kind: Pod
                metadata: {name: uploader, namespace: data-pipeline, labels: {app: uploader}}
                status: {podIP: 10.244.3.10}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: reporter, namespace: data-pipeline, labels: {app: reporter}}
                status: {podIP: 10.244.3.20}
                """);
        PolicyEngine e = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, "node");
        e.load(ManifestParser.load(List.of(dir)));
        return e;
    }

    static boolean allows(PolicyEngine e, String pod, int identity) {
        return e.policyOf(pod).entries(Direction.EGRESS).stream()
                .anyMatch(x -> x.peerIdentity() == identity && x.action() == Action.ALLOW && x.portLow() <= 443 && x.portHigh() >= 443);
    }

    @Test
    void learnedAddressOpensOnlyForTheIdentityThatAsked() throws Exception {
        PolicyEngine e = engine();
        int uploader = e.endpoint("data-pipeline/uploader").identity().id();
        int id = e.learnFqdn(uploader, "s3.amazonaws.com", "198.51.100.7").id();
        assertThat(e.identityOf(Cidr.parseAddress("198.51.100.7"))).isEqualTo(id);
        assertThat(e.identity(id).labels().toString()).contains("fqdn:*.amazonaws.com@" + uploader).contains("reserved:world");
        assertThat(allows(e, "data-pipeline/uploader", id)).isTrue();
        assertThat(allows(e, "data-pipeline/reporter", id)).as("same toFQDNs rule, but it never resolved the name").isFalse();
        assertThat(e.fqdnSelectors(e.endpoint("data-pipeline/uploader").identity(), "bucket.s3.amazonaws.com")).isEmpty();
        assertThat(e.fqdnSelectors(e.endpoint("data-pipeline/uploader").identity(), "api.example.com")).containsExactly("api.example.com");

        e.forgetFqdn(uploader, "s3.amazonaws.com", "198.51.100.7");
        assertThat(e.identityOf(Cidr.parseAddress("198.51.100.7"))).as("back to the world").isEqualTo(2);
        assertThat(allows(e, "data-pipeline/uploader", id)).isFalse();
    }

    @Test
    void aThousandLearnedNamesStayCheap() throws Exception {
        PolicyEngine e = engine();
        int uploader = e.endpoint("data-pipeline/uploader").identity().id();
        long t0 = System.nanoTime();
        for (int i = 0; i < 1000; i++) e.learnFqdn(uploader, "n" + i + ".amazonaws.com", "203.0." + (i / 250) + "." + (1 + i % 250));
        long perLearn = (System.nanoTime() - t0) / 1000;
        System.out.printf("engine learnFqdn: %.1f us per address with 1,000 learned%n", perLearn / 1e3);
        assertThat(e.policyOf("data-pipeline/uploader").entries(Direction.EGRESS).stream().filter(x -> x.portLow() == 443).count()).isGreaterThanOrEqualTo(1000);
    }
}
