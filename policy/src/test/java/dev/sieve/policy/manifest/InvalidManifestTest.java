package dev.sieve.policy.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.sieve.policy.testing.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid manifests: each is rejected with exactly one error naming the file, line, document, object, field
 * path and what is wrong ({@code file:line: document N (Kind ns/name): path: message}).
 */
class InvalidManifestTest {

    static final String CNP = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: prod}\nspec:\n";
    static final String CCNP = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c}\nspec:\n";
    static final String NP = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: prod}\nspec:\n";
    /** ingress from every pod of the namespace on port 80, with {@code %s} spliced into the port entry's rule */
    static final String SEL = "  endpointSelector: {}\n";

    record Bad(String name, String yaml, String error) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Bad bad(String name, String yaml, String error) {
        return new Bad(name, yaml, error);
    }

    static Stream<Bad> invalid() {
        return Stream.of(
                bad("unknown field", CNP + SEL + "  ingress:\n    - fromEndpoint: [{}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEndpoint: unknown field \"fromEndpoint\""),
                bad("unknown field with a case hint", CNP + SEL + "  ingress:\n    - FromEndpoints: [{}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].FromEndpoints: unknown field \"FromEndpoints\" (did you mean \"fromEndpoints\"?)"),
                bad("prefix too long", CNP + SEL + "  ingress:\n    - fromCIDR: [10.0.0.0/33]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromCIDR[0]: invalid CIDR \"10.0.0.0/33\": prefix length /33 too long for IPv4 in '10.0.0.0/33'"),
                bad("bad IPv4 address", CNP + SEL + "  egress:\n    - toCIDR: [10.0.0.300/8]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toCIDR[0]: invalid CIDR \"10.0.0.300/8\": invalid IPv4 address '10.0.0.300'"),
                bad("bad IPv6 address", CNP + SEL + "  egress:\n    - toCIDR: [\"2001:db8::zz/32\"]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toCIDR[0]: invalid CIDR \"2001:db8::zz/32\": invalid IPv6 address '2001:db8::zz'"),
                bad("except outside cidr", CNP + SEL + "  ingress:\n    - fromCIDRSet: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromCIDRSet[0].except[0]: except 192.168.0.0/16 is not inside cidr 10.0.0.0/8"),
                bad("IPv6 except outside cidr", CNP + SEL + "  ingress:\n    - fromCIDRSet: [{cidr: \"2001:db8::/32\", except: [\"2001:db9::/48\"]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromCIDRSet[0].except[0]: except 2001:db9::/48 is not inside cidr 2001:db8::/32"),
                bad("port out of range", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports:\n            - port: \"70000\"\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].port: port 70000 is out of range 0-65535"),
                bad("endPort lower than port", CNP + SEL + "  ingress:\n    - toPorts: [{ports: [{port: \"8080\", endPort: 80}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].endPort: endPort 80 is lower than port 8080"),
                bad("endPort with a named port", CNP + SEL + "  ingress:\n    - toPorts: [{ports: [{port: http, endPort: 90}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].endPort: endPort cannot be used with a named port"),
                bad("invalid port name", CNP + SEL + "  ingress:\n    - toPorts: [{ports: [{port: HTTP_PORT}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].port: invalid port \"HTTP_PORT\": expected a number 0-65535 or a port name (lowercase letters, digits and '-', at most 15 characters)"),
                bad("unknown protocol", CNP + SEL + "  ingress:\n    - toPorts: [{ports: [{port: \"80\", protocol: HTTP}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].protocol: unknown protocol \"HTTP\" (expected TCP, UDP, SCTP or ANY)"),
                bad("L7 rules on UDP", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: UDP}]\n          rules: {http: [{method: GET}]}\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules: HTTP rules cannot be carried over UDP (port 80/UDP)"),
                bad("L7 rules on a port range", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", endPort: 90, protocol: TCP}]\n          rules: {http: [{method: GET}]}\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules: HTTP rules cannot apply to a port range (80-90/TCP)"),
                bad("L7 rules without a port", CNP + SEL + "  ingress:\n    - toPorts:\n        - rules: {http: [{method: GET}]}\n",
                        "bad.yaml:8: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules: HTTP rules need a port: add ports with a port number"),
                bad("http and kafka in one block", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: TCP}]\n          rules: {http: [{method: GET}], kafka: [{topic: t}]}\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules: only one of http, kafka and dns may be given in one rules block"),
                bad("regex that does not compile", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: TCP}]\n          rules:\n            http:\n              - path: \"/api/([\"\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.http[0].path: invalid regular expression \"/api/([\": missing closing ]"),
                bad("backreference (RE2 has none, so no regex can take more than linear time)", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: TCP}]\n          rules:\n            http:\n              - path: \"/(a+)\\\\1\"\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.http[0].path: invalid regular expression \"/(a+)\\1\": invalid escape sequence"),
                bad("invalid header", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: TCP}]\n          rules:\n            http:\n              - headers: [\"X Bad: v\"]\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.http[0].headers[0]: invalid header \"X Bad: v\": expected \"Name\" or \"Name: value\""),
                bad("role and apiKey together", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"9092\", protocol: TCP}]\n          rules:\n            kafka:\n              - {role: produce, apiKey: produce}\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.kafka[0]: role and apiKey are mutually exclusive"),
                bad("unknown Kafka role", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"9092\", protocol: TCP}]\n          rules:\n            kafka:\n              - {role: admin}\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.kafka[0].role: unknown role \"admin\" (expected produce or consume)"),
                bad("unknown Kafka apiKey", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"9092\", protocol: TCP}]\n          rules:\n            kafka:\n              - {apiKey: publish}\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.kafka[0].apiKey: unknown Kafka apiKey \"publish\""),
                bad("bad Kafka topic", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"9092\", protocol: TCP}]\n          rules:\n            kafka:\n              - {apiKey: produce, topic: \"pay ments!\"}\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.kafka[0].topic: invalid topic \"pay ments!\": at most 255 of a-z, A-Z, 0-9, '.', '_' and '-'"),
                bad("bad DNS pattern", CNP + SEL + "  egress:\n    - toPorts:\n        - ports: [{port: \"53\", protocol: UDP}]\n          rules:\n            dns:\n              - matchPattern: \"*.exa mple.com\"\n",
                        "bad.yaml:11: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toPorts[0].rules.dns[0].matchPattern: invalid DNS pattern \"*.exa mple.com\": letters, digits, '-', '_', '.' and '*' only"),
                bad("bad toFQDNs name", CNP + SEL + "  egress:\n    - toFQDNs: [{matchName: \"api/example.com\"}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toFQDNs[0].matchName: invalid DNS name \"api/example.com\""),
                bad("toFQDNs with both name and pattern", CNP + SEL + "  egress:\n    - toFQDNs: [{matchName: a.com, matchPattern: \"*.a.com\"}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toFQDNs[0]: exactly one of matchName or matchPattern is required"),
                bad("DNS rules at ingress", CNP + SEL + "  ingress:\n    - toPorts:\n        - ports: [{port: \"53\", protocol: UDP}]\n          rules: {dns: [{matchName: a.com}]}\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].rules.dns: DNS rules apply to egress only"),
                bad("unknown selector operator", CNP + SEL + "  ingress:\n    - fromEndpoints:\n        - matchExpressions: [{key: app, operator: Includes, values: [a]}]\n",
                        "bad.yaml:8: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEndpoints[0].matchExpressions[0].operator: unknown operator \"Includes\" (expected In, NotIn, Exists or DoesNotExist)"),
                bad("In without values", CNP + SEL + "  ingress:\n    - fromEndpoints:\n        - matchExpressions: [{key: app, operator: In}]\n",
                        "bad.yaml:8: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEndpoints[0].matchExpressions[0]: operator In needs at least one value"),
                bad("Exists with values", CNP + SEL + "  ingress:\n    - fromEndpoints:\n        - matchExpressions: [{key: app, operator: Exists, values: [a]}]\n",
                        "bad.yaml:8: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: operator Exists takes no values"),
                bad("unknown entity", CNP + SEL + "  ingress:\n    - fromEntities: [internet]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEntities[0]: unknown entity \"internet\" (expected one of all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged)"),
                bad("toFQDNs in egressDeny", CNP + SEL + "  egressDeny:\n    - toFQDNs: [{matchName: api.example.com}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egressDeny[0].toFQDNs: toFQDNs is not allowed in egressDeny (Cilium cannot deny by DNS name)"),
                bad("L7 rules in a deny rule", CNP + SEL + "  ingressDeny:\n    - toPorts:\n        - ports: [{port: \"80\", protocol: TCP}]\n          rules: {http: [{method: GET}]}\n",
                        "bad.yaml:9: document 1 (CiliumNetworkPolicy prod/p): spec.ingressDeny[0].toPorts[0].rules: L7 rules are not allowed in a deny rule (deny rules act at L3/L4 only)"),
                bad("fromRequires in a deny rule", CNP + SEL + "  ingressDeny:\n    - fromRequires: [{matchLabels: {env: prod}}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingressDeny[0].fromRequires: fromRequires is not allowed in a deny rule"),
                bad("icmps with toPorts", CNP + SEL + "  ingress:\n    - icmps: [{fields: [{type: 8}]}]\n      toPorts: [{ports: [{port: \"80\"}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].icmps: icmps and toPorts cannot be combined in one rule (use two rules)"),
                bad("ICMP type out of range", CNP + SEL + "  ingress:\n    - icmps: [{fields: [{type: 300}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].icmps[0].fields[0].type: invalid ICMP type \"300\": a number 0-255 or a type name such as EchoRequest"),
                bad("unknown ICMP type name", CNP + SEL + "  ingress:\n    - icmps: [{fields: [{type: Ping, family: IPv6}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].icmps[0].fields[0].type: invalid ICMPv6 type \"Ping\": a number 0-255 or a type name such as EchoRequest"),
                bad("unknown ICMP family", CNP + SEL + "  ingress:\n    - icmps: [{fields: [{type: 8, family: IPv5}]}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].icmps[0].fields[0].family: unknown family \"IPv5\" (expected IPv4 or IPv6)"),
                bad("rule without endpointSelector", CNP + "  ingress: [{fromEntities: [world]}]\n",
                        "bad.yaml:5: document 1 (CiliumNetworkPolicy prod/p): spec: missing required field: a rule needs endpointSelector"),
                bad("nodeSelector in a CiliumNetworkPolicy", CNP + "  nodeSelector: {}\n  ingress: [{fromEntities: [world]}]\n",
                        "bad.yaml:5: document 1 (CiliumNetworkPolicy prod/p): spec.nodeSelector: nodeSelector is only valid in a CiliumClusterwideNetworkPolicy"),
                bad("endpointSelector and nodeSelector", CCNP + SEL + "  nodeSelector: {}\n",
                        "bad.yaml:5: document 1 (CiliumClusterwideNetworkPolicy c): spec: endpointSelector and nodeSelector are mutually exclusive"),
                bad("CCNP with a namespace", "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c, namespace: prod}\nspec:\n" + SEL,
                        "bad.yaml:3: document 1 (CiliumClusterwideNetworkPolicy prod/c): metadata.namespace: a CiliumClusterwideNetworkPolicy is not namespaced: remove metadata.namespace"),
                bad("missing spec", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: prod}\n",
                        "bad.yaml: document 1 (CiliumNetworkPolicy prod/p): spec: missing required field: a policy needs spec or specs"),
                bad("a list where an object is expected", CNP + SEL + "  ingress:\n    fromEndpoints: [{}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress: expected a list, found an object"),
                bad("toServices with both forms", CNP + SEL + "  egress:\n    - toServices: [{k8sService: {serviceName: a}, k8sServiceSelector: {selector: {}}}]\n",
                        "bad.yaml:7: document 1 (CiliumNetworkPolicy prod/p): spec.egress[0].toServices[0]: exactly one of k8sService or k8sServiceSelector is required"),
                bad("ipBlock combined with podSelector", NP + "  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/8}\n          podSelector: {}\n",
                        "bad.yaml:8: document 1 (NetworkPolicy prod/n): spec.ingress[0].from[0]: ipBlock cannot be combined with podSelector or namespaceSelector in one peer"),
                bad("ipBlock except not a strict subset", NP + "  podSelector: {}\n  ingress:\n    - from:\n        - ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/8]}\n",
                        "bad.yaml:8: document 1 (NetworkPolicy prod/n): spec.ingress[0].from[0].ipBlock.except[0]: except 10.0.0.0/8 must be a strict subset of cidr 10.0.0.0/8"),
                bad("unknown policy type", NP + "  podSelector: {}\n  policyTypes: [Ingress, Both]\n",
                        "bad.yaml:6: document 1 (NetworkPolicy prod/n): spec.policyTypes[1]: unknown policy type \"Both\" (expected Ingress or Egress)"),
                bad("egress rules without the Egress type", NP + "  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{}]\n",
                        "bad.yaml:7: document 1 (NetworkPolicy prod/n): spec.egress: egress rules given but policyTypes does not include Egress"),
                bad("NetworkPolicy port out of range", NP + "  podSelector: {}\n  ingress:\n    - ports: [{port: 0}]\n",
                        "bad.yaml:7: document 1 (NetworkPolicy prod/n): spec.ingress[0].ports[0].port: port 0 is out of range 1-65535"),
                bad("unknown kind", "apiVersion: v1\nkind: Deployment\nmetadata: {name: d, namespace: prod}\n",
                        "bad.yaml:2: document 1 (Deployment prod/d): kind: unsupported kind \"Deployment\" (Sieve reads CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy, Namespace, Pod, Service, Node, Endpoints)"),
                bad("wrong apiVersion", "apiVersion: cilium.io/v1\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: prod}\nspec:\n" + SEL,
                        "bad.yaml:1: document 1 (CiliumNetworkPolicy prod/p): apiVersion: unsupported apiVersion \"cilium.io/v1\" for CiliumNetworkPolicy (expected cilium.io/v2)"),
                bad("missing kind", "apiVersion: v1\nmetadata: {name: x}\n",
                        "bad.yaml:1: document 1: kind: missing required field"),
                bad("invalid name", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: Bad_Name, namespace: prod}\nspec:\n" + SEL,
                        "bad.yaml:3: document 1: metadata.name: invalid name \"Bad_Name\": must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"),
                bad("invalid YAML", CNP + SEL + "  ingress: [{fromEntities: [world]}\n",
                        "bad.yaml:7: document 1: invalid YAML: expected ',' or ']', but got <stream end>"),
                bad("duplicate policy name", CNP + SEL + "---\n" + CNP + SEL,
                        "bad.yaml: document 2 (CiliumNetworkPolicy prod/p): metadata.name: duplicate: another CiliumNetworkPolicy named \"prod/p\" was already read"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejectedWithExactError(Bad b) {
        ValidationException e = catchThrowableOfType(ValidationException.class, () -> ManifestParser.parse("bad.yaml", b.yaml()));
        assertThat(e).as("%s should be rejected", b.name()).isNotNull();
        assertThat(e.errors()).extracting(ValidationError::toString).containsExactly(b.error());
    }

    @Test
    void oneBadFileAmongGoodOnesRejectsTheWholeSet(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("zz-bad.yaml");
        Files.writeString(bad, CNP + SEL + "  ingress:\n    - toPorts: [{ports: [{port: \"99999\"}]}]\n");
        List<Path> paths = List.of(Scenario.examples().resolve("cluster"), Scenario.examples().resolve("policies"), bad);
        ValidationException e = catchThrowableOfType(ValidationException.class, () -> ManifestParser.load(paths));
        assertThat(e).as("the set must be rejected").isNotNull();
        assertThat(e.errors()).extracting(ValidationError::toString).containsExactly(
                bad + ":7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].toPorts[0].ports[0].port: port 99999 is out of range 0-65535");
        // the good files alone load
        assertThat(ManifestParser.load(paths.subList(0, 2)).policies()).hasSize(8);
    }

    @Test
    void everyErrorOfEveryFileIsReported(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a.yaml");
        Path b = dir.resolve("b.yaml");
        Files.writeString(a, CNP + SEL + "  ingress:\n    - fromEntities: [nowhere]\n      fromCIDR: [1.2.3.4/40]\n");
        Files.writeString(b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\n" + NP + "  podSelector: {}\n  policyTypes: [Sideways]\n");
        assertThatThrownBy(() -> ManifestParser.load(List.of(a, b)))
                .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.errors()).extracting(ValidationError::toString).containsExactly(
                        a + ":8: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromCIDR[0]: invalid CIDR \"1.2.3.4/40\": prefix length /40 too long for IPv4 in '1.2.3.4/40'",
                        a + ":7: document 1 (CiliumNetworkPolicy prod/p): spec.ingress[0].fromEntities[0]: unknown entity \"nowhere\" (expected one of all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged)",
                        b + ":10: document 2 (NetworkPolicy prod/n): spec.policyTypes[0]: unknown policy type \"Sideways\" (expected Ingress or Egress)"));
    }

    @Test
    void aMissingFileIsAnError() {
        assertThatThrownBy(() -> ManifestParser.load(List.of(Path.of("/nonexistent/policies.yaml"))))
                .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.errors()).extracting(ValidationError::toString)
                        .containsExactly("/nonexistent/policies.yaml: document 0: no such file or directory"));
    }

    @Test
    void aListWithoutItemsIsEmptyAndOneWithNonListItemsIsRefused() throws Exception {
        // found by the fuzzer (fuzz/PolicyManifestFuzzTest): a List without items threw a NullPointerException
        assertThat(ManifestParser.parse("list.yaml", "apiVersion: v1\nkind: List\n").policies()).isEmpty();
        assertThatThrownBy(() -> ManifestParser.parse("list.yaml", "apiVersion: v1\nkind: List\nitems: 5\n"))
                .isInstanceOfSatisfying(ValidationException.class, e -> assertThat(e.errors()).extracting(ValidationError::toString)
                        .containsExactly("list.yaml:3: document 1: items: expected a list, found \"5\""));
    }
}
