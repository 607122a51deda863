package dev.sieve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract of {@code sieve policy validate} and {@code sieve policy trace}: output and exit codes. */
class PolicyCommandsTest {

    static final Path REPO = Path.of(System.getProperty("sieve.repo.dir", "..")).toAbsolutePath().normalize();
    static final String CLUSTER = REPO.resolve("examples/cluster").toString();
    static final String POLICIES = REPO.resolve("examples/policies").toString();

    record Run(int code, String out, String err) {}

    static Run sieve(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    static String policy(String name) {
        return REPO.resolve("examples/policies").resolve(name).toString();
    }

    @Test
    void validateAcceptsTheExamples() {
        Run r = sieve("policy", "validate", REPO.resolve("examples").toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("valid: 8 policies");
    }

    @Test
    void validateRejectsWithFileFieldAndProblem(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata:
                  name: bad
                  namespace: prod
                spec:
                  endpointSelector: {}
                  ingress:
                    - toPorts:
                        - ports:
                            - port: "70000"
                """);
        Run r = sieve("policy", "validate", POLICIES, bad.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(bad + ":11: document 1 (CiliumNetworkPolicy prod/bad): spec.ingress[0].toPorts[0].ports[0].port: port 70000 is out of range 0-65535");
        assertThat(r.err()).contains("1 error(s)");
    }

    @Test
    void validateWithMissingFileIsAnError() {
        Run r = sieve("policy", "validate", "/nonexistent/sieve.yaml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("/nonexistent/sieve.yaml: document 0: no such file or directory");
    }

    @Test
    void traceJsonNamesTheDenyingPolicy() throws Exception {
        Run r = sieve("policy", "trace", "-f", CLUSTER, policy("04-deny-dev-to-prod-db.yaml"),
                "--from", "development/dev-client", "--to", "production/database", "--dport", "5432/TCP", "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("verdict").asText()).isEqualTo("DROPPED");
        assertThat(j.get("ingress").get("verdict").asText()).isEqualTo("DROPPED");
        assertThat(j.get("ingress").get("rule").asText()).isEqualTo("CiliumNetworkPolicy production/deny-dev-to-prod-db spec.ingressDeny[0]");
        assertThat(j.get("ingress").get("policies").get(0).asText()).isEqualTo("production/deny-dev-to-prod-db");
        assertThat(j.get("ingress").get("drop_reason").asInt()).isEqualTo(181);
        assertThat(j.get("egress").get("verdict").asText()).isEqualTo("FORWARDED");
        assertThat(j.has("l7")).isFalse();
        assertThat(j.get("reason").asText()).contains("denied by");
    }

    @Test
    void traceRedirectedWithoutL7RequestAndDecidedWithOne() throws Exception {
        List<String> base = List.of("policy", "trace", "-f", CLUSTER, policy("02-api-http-filter.yaml"),
                "--from", "production/api-consumer", "--to", "production/api-server", "--dport", "80", "-o", "json");
        JsonNode redirected = new ObjectMapper().readTree(sieve(base.toArray(String[]::new)).out());
        assertThat(redirected.get("verdict").asText()).isEqualTo("REDIRECTED");

        List<String> get = new ArrayList<>(base);
        get.addAll(List.of("--http-method", "GET", "--http-path", "/api/v1/users"));
        JsonNode allowed = new ObjectMapper().readTree(sieve(get.toArray(String[]::new)).out());
        assertThat(allowed.get("verdict").asText()).isEqualTo("FORWARDED");
        assertThat(allowed.get("l7").get("rule").asText()).isEqualTo("http method=GET path=/api/.*");

        List<String> delete = new ArrayList<>(base);
        delete.addAll(List.of("--http-method", "DELETE", "--http-path", "/api/v1/users"));
        JsonNode denied = new ObjectMapper().readTree(sieve(delete.toArray(String[]::new)).out());
        assertThat(denied.get("verdict").asText()).isEqualTo("DROPPED");
        assertThat(denied.get("l7").get("verdict").asText()).isEqualTo("DROPPED");
    }

    @Test
    void traceTextIsReadable() {
        Run r = sieve("policy", "trace", "-f", CLUSTER, policy("01-allow-frontend-to-backend.yaml"),
                "--from", "production/frontend", "--to", "production/backend", "--dport", "8080/TCP");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("FORWARDED  production/frontend -> production/backend  8080/TCP");
        assertThat(r.out()).contains("ingress      FORWARDED  allowed by CiliumNetworkPolicy production/allow-frontend-to-backend spec.ingress[0]");
    }

    @Test
    void traceKafkaAndDnsAndModes() throws Exception {
        Run produce = sieve("policy", "trace", "-f", CLUSTER, policy("05-kafka-topic-control.yaml"), "--from", "messaging/producer",
                "--to", "messaging/kafka-broker", "--dport", "9092", "--kafka-api-key", "produce", "--kafka-topic", "orders", "-o", "json");
        assertThat(new ObjectMapper().readTree(produce.out()).get("verdict").asText()).isEqualTo("DROPPED");
        Run dns = sieve("policy", "trace", "-f", CLUSTER, policy("03-allow-s3-egress.yaml"), "--from", "data-pipeline/uploader",
                "--to", "kube-system/kube-dns", "--dport", "53/UDP", "--dns-query", "s3.amazonaws.com", "-o", "json");
        assertThat(new ObjectMapper().readTree(dns.out()).get("verdict").asText()).isEqualTo("FORWARDED");
        Run never = sieve("policy", "trace", "-f", CLUSTER, policy("04-deny-dev-to-prod-db.yaml"), "--mode", "never",
                "--from", "development/dev-client", "--to", "production/database", "--dport", "5432", "-o", "json");
        assertThat(new ObjectMapper().readTree(never.out()).get("verdict").asText()).isEqualTo("FORWARDED");
    }

    @Test
    void badArgumentsExitTwoWithOneClearLine() {
        Run badPort = sieve("policy", "trace", "-f", CLUSTER, "--from", "a/b", "--to", "c/d", "--dport", "99999");
        assertThat(badPort.code()).isEqualTo(2);
        assertThat(badPort.err()).startsWith("sieve: invalid --dport \"99999\"");
        Run badPeer = sieve("policy", "trace", "-f", CLUSTER, "--from", "production/nope", "--to", "production/backend", "--dport", "80");
        assertThat(badPeer.code()).isEqualTo(2);
        assertThat(badPeer.err().trim()).isEqualTo("sieve: peer \"production/nope\": no pod production/nope in the manifests");
        Run badMode = sieve("policy", "trace", "-f", CLUSTER, "--mode", "sometimes", "--from", "a/b", "--to", "c/d", "--dport", "80");
        assertThat(badMode.code()).isEqualTo(2);
        assertThat(badMode.err()).contains("unknown enforcement mode \"sometimes\"");
        Run missing = sieve("policy", "trace", "-f", CLUSTER);
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("Missing required options");
        Run unknown = sieve("policy", "frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(missing.err()).doesNotContain("Exception");
    }

    @Test
    void helpEverywhere() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"policy", "--help"},
                new String[] {"policy", "trace", "--help"}, new String[] {"policy", "validate", "--help"})) {
            Run r = sieve(args);
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("Usage: sieve");
        }
    }
}
