package dev.sieve.relay.explain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.compute.EnforcementMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the seed's examples 01 and 04 select in its demo cluster, and their rules as sentences. */
class PolicyDescriberTest {
    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("sieve-describe-test");
        Path examples = Path.of("..", "examples");
        Files.copy(examples.resolve("cluster/cluster.yaml"), dir.resolve("cluster.yaml"));
        Files.copy(examples.resolve("policies/01-allow-frontend-to-backend.yaml"), dir.resolve("01.yaml"));
        Files.copy(examples.resolve("policies/04-deny-dev-to-prod-db.yaml"), dir.resolve("04.yaml"));
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object m, Object... path) {
        Object o = m;
        for (Object k : path) o = k instanceof Integer i ? ((List<Object>) o).get(i) : ((Map<String, Object>) o).get(k);
        return (T) o;
    }

    private static Map<String, Object> policy(Map<String, Object> answer, String name) {
        List<Map<String, Object>> ps = at(answer, "policies");
        return ps.stream().filter(p -> p.get("name").equals(name)).findFirst().orElseThrow();
    }

    private static List<String> selected(Map<String, Object> peer) {
        List<Map<String, Object>> sel = at(peer, "selects");
        return sel.stream().flatMap(s -> s.containsKey("pods") ? ((List<String>) s.get("pods")).stream() : Stream.of((String) s.get("name"))).toList();
    }

    @Test
    void selectionsAndSentencesComeFromThePolicyEngine() {
        Map<String, Object> answer = new PolicyDescriber(new PolicySet(List.of(dir), EnforcementMode.DEFAULT)).describe();
        assertThat((Boolean) answer.get("available")).isTrue();

        Map<String, Object> allow = policy(answer, "allow-frontend-to-backend");
        assertThat(at(allow, "endpoints", 0, "pod").toString()).isEqualTo("production/backend");
        Map<String, Object> rule = at(allow, "specs", 0, "rules", 0);
        assertThat(rule.get("rule")).isEqualTo("CiliumNetworkPolicy production/allow-frontend-to-backend spec.ingress[0]");
        assertThat(rule.get("text")).isEqualTo("Allow ingress from pods app=frontend in namespace production on 8080/TCP.");
        assertThat(selected(at(rule, "peers", 0))).containsExactly("production/frontend");

        Map<String, Object> deny = policy(answer, "deny-dev-to-prod-db");
        List<Map<String, Object>> rules = at(deny, "specs", 0, "rules");
        assertThat(rules).extracting(r -> r.get("path")).containsExactly("spec.ingress[0]", "spec.ingressDeny[0]");
        Map<String, Object> cluster = rules.get(0), denyRule = rules.get(1);
        assertThat(cluster.get("text")).isEqualTo("Allow ingress from entity cluster on 5432/TCP.");
        // the cluster entity: every pod of the cluster and the reserved cluster identities, not the world
        assertThat(selected(at(cluster, "peers", 0))).contains("production/frontend", "development/dev-client", "host").doesNotContain("world");
        assertThat(denyRule.get("deny")).isEqualTo(true);
        assertThat(denyRule.get("text")).isEqualTo("Deny ingress from every pod in namespace development on any port and protocol.");
        assertThat(selected(at(denyRule, "peers", 0))).containsExactly("development/dev-client");
    }

    @Test
    void withoutManifestsItSaysSo() {
        Map<String, Object> answer = new PolicyDescriber(new PolicySet(List.of(), EnforcementMode.DEFAULT)).describe();
        assertThat((Boolean) answer.get("available")).isFalse();
        assertThat((String) answer.get("message")).contains("--manifests");
        assertThat((List<?>) answer.get("policies")).isEmpty();
    }
}
