package dev.sieve.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ValidationException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;

/**
 * The policy manifest parser (YAML of NetworkPolicy, CNP, CCNP, pods, namespaces, services) on arbitrary text: it either
 * returns a manifest set or throws {@link ValidationException} naming the problem; nothing else (no other exception,
 * no stack overflow, no hang). Seeds: the seed's examples.
 */
class PolicyManifestFuzzTest {
    static final FuzzStats STATS = new FuzzStats("policy-manifest");

    @FuzzTest(maxDuration = "4s")
    void manifests(byte[] input) {
        STATS.input();
        String text = new String(input, StandardCharsets.UTF_8);
        try {
            ManifestParser.parse("fuzz.yaml", text);
        } catch (ValidationException e) {
            STATS.refused();
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a refusal without a message", e);
        }
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
    }
}
