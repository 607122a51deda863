package dev.sieve.relay.explain;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.IP;
import dev.sieve.api.flow.Layer4;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TCP;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.EnforcementMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** "Why" for flows of the seed's demo cluster with its examples 01 and 04, through the policy engine. */
class FlowExplainerTest {
    private Path dir;
    private FlowExplainer explainer;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory("sieve-explain-test");
        Path examples = Path.of("..", "examples");
        Files.copy(examples.resolve("cluster/cluster.yaml"), dir.resolve("cluster.yaml"));
        Files.copy(examples.resolve("policies/01-allow-frontend-to-backend.yaml"), dir.resolve("01.yaml"));
        Files.copy(examples.resolve("policies/04-deny-dev-to-prod-db.yaml"), dir.resolve("04.yaml"));
        explainer = new FlowExplainer(new PolicySet(List.of(dir), EnforcementMode.DEFAULT));
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static Flow flow(String src, String dst, int port, Verdict v, boolean reply) {
        String[] s = src.split("/"), d = dst.split("/");
        Flow.Builder b = Flow.newBuilder().setUuid("u-" + src + "-" + dst).setVerdict(v)
                .setIP(IP.newBuilder().setSource("10.244.9.1").setDestination("10.244.9.2"))
                .setSource(Endpoint.newBuilder().setNamespace(s[0]).setPodName(s[1]))
                .setDestination(Endpoint.newBuilder().setNamespace(d[0]).setPodName(d[1]));
        TCP.Builder tcp = reply ? TCP.newBuilder().setSourcePort(port).setDestinationPort(40000) : TCP.newBuilder().setSourcePort(40000).setDestinationPort(port);
        b.setL4(Layer4.newBuilder().setTCP(tcp));
        if (reply) b.setIsReply(BoolValue.of(true));
        return b.build();
    }

    @Test
    void aDenyRuleDropNamesTheRuleAndNoPolicyCanAllowIt() {
        Map<String, Object> why = explainer.explain(flow("development/dev-client", "production/database", 5432, Verdict.DROPPED, false));
        assertThat(why).containsEntry("available", true).containsEntry("verdict", "DROPPED").containsEntry("agrees", true);
        assertThat(why.get("ingress")).asString().contains("CiliumNetworkPolicy production/deny-dev-to-prod-db spec.ingressDeny[0]");
        assertThat(why.get("allow")).asString().contains("kind=deny-rule");
    }

    @Test
    void aReplyIsTracedAsItsConnection() {
        Map<String, Object> why = explainer.explain(flow("production/database", "development/dev-client", 5432, Verdict.DROPPED, true));
        assertThat(why.get("request")).asString().contains("from=development/dev-client").contains("to=production/database").contains("port=5432");
        assertThat(why).containsEntry("verdict", "DROPPED");
        // an L7 response: reported from the server to the client, as a reply
        Flow response = flow("production/backend", "production/frontend", 8080, Verdict.FORWARDED, true).toBuilder()
                .setL4(Layer4.newBuilder().setTCP(TCP.newBuilder().setSourcePort(8080).setDestinationPort(40000)))
                .setL7(Layer7.newBuilder().setType(dev.sieve.api.flow.L7FlowType.RESPONSE)
                        .setHttp(HTTP.newBuilder().setCode(200).setMethod("GET").setUrl("http://backend:8080/api/users"))).build();
        Map<String, Object> r = explainer.explain(response);
        assertThat(r.get("request")).asString().contains("from=production/frontend").contains("to=production/backend").contains("port=8080");
        assertThat(r).containsEntry("verdict", "FORWARDED").containsEntry("agrees", true);
    }

    @Test
    void anAllowedHttpFlowNamesTheAllowingRuleAndItsRequest() {
        Flow f = flow("production/frontend", "production/backend", 8080, Verdict.FORWARDED, false).toBuilder()
                .setL7(Layer7.newBuilder().setHttp(HTTP.newBuilder().setMethod("GET").setUrl("http://backend:8080/api/users?x=1"))).build();
        Map<String, Object> why = explainer.explain(f);
        assertThat(why).containsEntry("verdict", "FORWARDED").doesNotContainKey("allow");
        assertThat(why.get("ingress")).asString().contains("CiliumNetworkPolicy production/allow-frontend-to-backend spec.ingress[0]");
        assertThat(why.get("request")).asString().contains("l7=HTTP GET /api/users?x=1");
    }

    @Test
    void aDefaultDenyDropGetsAPolicyThatTracesForwarded() {
        Map<String, Object> why = explainer.explain(flow("production/prod-client", "production/backend", 8080, Verdict.DROPPED, false));
        assertThat(why).containsEntry("verdict", "DROPPED");
        @SuppressWarnings("unchecked") Map<String, Object> allow = (Map<String, Object>) why.get("allow");
        assertThat(allow).containsEntry("kind", "policy").containsEntry("verified", true).containsEntry("verdictWith", "FORWARDED");
        assertThat((String) allow.get("yaml")).contains("kind: CiliumNetworkPolicy").contains("namespace: \"production\"")
                .contains("fromEndpoints:").contains("\"app\": \"client\"").contains("port: \"8080\"");
    }

    @Test
    void aChangedManifestIsTracedAgainAndAnInvalidOneKeepsTheLastValidSet() throws Exception {
        Flow f = flow("production/prod-client", "production/backend", 8080, Verdict.DROPPED, false);
        assertThat(explainer.explain(f)).containsEntry("verdict", "DROPPED");
        Files.delete(dir.resolve("01.yaml")); // backend no longer under default deny
        Thread.sleep(1100);
        assertThat(explainer.explain(f)).containsEntry("verdict", "FORWARDED").containsEntry("agrees", false);
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad, namespace: production}\nspec:\n  endpointSelector: {}\n  ingress:\n    - toPorts: [{ports: [{port: \"70000\"}]}]\n");
        Files.setLastModifiedTime(bad, FileTime.fromMillis(System.currentTimeMillis()));
        Thread.sleep(1100);
        Map<String, Object> why = explainer.explain(f);
        assertThat(why).containsEntry("verdict", "FORWARDED");
        assertThat(why.get("manifestErrors")).asString().contains("bad.yaml").contains("70000");
    }

    @Test
    void withoutManifestsTheAnswerSaysSo() {
        Map<String, Object> why = new FlowExplainer(new PolicySet(List.of(), EnforcementMode.DEFAULT))
                .explain(flow("production/prod-client", "production/backend", 8080, Verdict.DROPPED, false));
        assertThat(why).containsEntry("available", false);
        assertThat(why.get("message")).asString().contains("--manifests");
    }

    @Test
    void aPodNotInTheManifestsIsNamed() {
        Map<String, Object> why = explainer.explain(flow("production/ghost", "production/backend", 8080, Verdict.DROPPED, false));
        assertThat(why.get("traceError")).asString().contains("production/ghost");
    }
}
