package dev.sieve.policy.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.testing.Scenario;
import dev.sieve.policy.trace.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kubernetes NetworkPolicy conformance in the style of the upstream e2e "netpol" suite: namespaces x, y, z
 * (labelled ns=x ...) with pods a, b, c (labelled pod=a ...) each, serving TCP 80 ("serve-80-tcp") and 81
 * ("serve-81-tcp"), UDP 80 ("serve-80-udp") and SCTP 80. For each policy the full 9x9 reachability matrix is
 * probed and compared with the expected truth table ('.' connects, 'X' is blocked), rows are sources, columns
 * destinations, in the order x/a x/b x/c y/a y/b y/c z/a z/b z/c.
 *
 * <p>The diagonal is '-' and not probed: upstream allows loopback (a pod reaching itself never leaves its
 * network namespace, so no datapath policy sees it), which a trace of pod-IP traffic does not model.
 */
class NetworkPolicyConformanceTest {

    static final List<String> PODS = List.of("x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c");

    static final String CLUSTER = cluster();

    private static String cluster() {
        StringBuilder sb = new StringBuilder();
        int n = 10;
        for (String ns : List.of("x", "y", "z")) {
            sb.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: ").append(ns).append(", labels: {ns: ").append(ns).append("}}\n---\n");
            int host = 1;
            for (String pod : List.of("a", "b", "c")) {
                sb.append("apiVersion: v1\nkind: Pod\nmetadata: {name: ").append(pod).append(", namespace: ").append(ns)
                  .append(", labels: {pod: ").append(pod).append("}}\n")
                  .append("spec: {containers: [{name: c, ports: [{name: serve-80-tcp, containerPort: 80}, {name: serve-81-tcp, containerPort: 81},")
                  .append(" {name: serve-80-udp, containerPort: 80, protocol: UDP}, {name: serve-80-sctp, containerPort: 80, protocol: SCTP}]}]}\n")
                  .append("status: {podIP: 10.244.").append(n).append('.').append(host++).append("}\n---\n");
            }
            n++;
        }
        sb.append("""
                apiVersion: v1
                kind: Node
                metadata: {name: node-1}
                status: {addresses: [{type: InternalIP, address: 192.168.0.1}]}
                """);
        return sb.toString();
    }

    static String netpol(String ns, String name, String spec) {
        return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec.indent(2);
    }

    /** One row of the table: policies, the port probed, and the expected matrix (9 rows of 9 cells). */
    record Matrix(String name, String policies, String port, String expected) {
        @Override
        public String toString() {
            return name + " (" + port + ")";
        }
    }

    static Matrix mx(String name, String policies, String port, String... rows) {
        return new Matrix(name, policies, port, String.join("\n", rows));
    }

    static final String ALL = "-........";

    static Stream<Matrix> matrices() {
        return Stream.of(
                mx("no policy: everything connects", "", "80/TCP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("deny all ingress in x", netpol("x", "deny-all", "podSelector: {}\npolicyTypes: [Ingress]\n"), "80/TCP",
                        "-XX......", "X-X......", "XX-......", "XXX-.....", "XXX.-....", "XXX..-...", "XXX...-..", "XXX....-.", "XXX.....-"),
                mx("allow all ingress in x", netpol("x", "deny-all", "podSelector: {}\npolicyTypes: [Ingress]\n")
                        + netpol("x", "allow-all", "podSelector: {}\ningress: [{}]\n"), "80/TCP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("allow from the same namespace", netpol("x", "same-ns", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]\n"), "80/TCP",
                        "-........", ".-.......", "..-......", "XXX-.....", "XXX.-....", "XXX..-...", "XXX...-..", "XXX....-.", "XXX.....-"),
                mx("x/a from namespace ns=y", netpol("x", "from-y", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]\n"), "80/TCP",
                        "-........", "X-.......", "X.-......", "...-.....", "....-....", ".....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a from namespace by kubernetes.io/metadata.name", netpol("x", "from-z",
                        "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]\n"), "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "......-..", ".......-.", "........-"),
                mx("x/a from ns=y AND pod=b (one peer)", netpol("x", "and", """
                        podSelector: {matchLabels: {pod: a}}
                        ingress:
                          - from:
                              - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y]}]}
                                podSelector: {matchLabels: {pod: b}}
                        """), "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "....-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a from ns=y OR pod=b (two peers)", netpol("x", "or", """
                        podSelector: {matchLabels: {pod: a}}
                        ingress:
                          - from:
                              - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [y]}]}
                              - podSelector: {matchLabels: {pod: b}}
                        """), "80/TCP",
                        "-........", ".-.......", "X.-......", "...-.....", "....-....", ".....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a from pod=b in every namespace", netpol("x", "any-ns-b", """
                        podSelector: {matchLabels: {pod: a}}
                        ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}]}]
                        """), "80/TCP",
                        "-........", ".-.......", "X.-......", "X..-.....", "....-....", "X....-...", "X.....-..", ".......-.", "X.......-"),
                mx("x pods from pod NotIn [a] of x", netpol("x", "notin", """
                        podSelector: {}
                        ingress: [{from: [{podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [a]}]}}]}]
                        """), "80/TCP",
                        "-XX......", ".-.......", "..-......", "XXX-.....", "XXX.-....", "XXX..-...", "XXX...-..", "XXX....-.", "XXX.....-"),
                mx("x/a only on port 81: probe 80", PORT_81, "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a only on port 81: probe 81", PORT_81, "81/TCP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("x/a on named port serve-81-tcp: probe 81", NAMED_81, "81/TCP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("x/a on named port serve-81-tcp: probe 80", NAMED_81, "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a on 80-81 (endPort) from y: probe 81", RANGE, "81/TCP",
                        "-........", "X-.......", "X.-......", "...-.....", "....-....", ".....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a on 80-81 (endPort) from y: probe 82", RANGE, "82/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a on UDP 80 only: probe UDP", UDP_80, "80/UDP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("x/a on UDP 80 only: probe TCP", UDP_80, "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a on SCTP 80 only: probe SCTP", netpol("x", "sctp", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{protocol: SCTP, port: 80}]}]\n"), "80/SCTP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("egress of x: deny all but DNS, probe 80", EGRESS_DNS, "80/TCP",
                        "-XXXXXXXX", "X-XXXXXXX", "XX-XXXXXX", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("egress of x: deny all but DNS, probe 53/UDP", EGRESS_DNS, "53/UDP",
                        "-........", ".-.......", "..-......", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("policyTypes Egress only: x may reach y only", netpol("x", "to-y",
                        "podSelector: {}\npolicyTypes: [Egress]\negress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}]}]\n"), "80/TCP",
                        "-XX...XXX", "X-X...XXX", "XX-...XXX", "...-.....", "....-....", ".....-...", "......-..", ".......-.", "........-"),
                mx("deny all egress and ingress in y", netpol("y", "lockdown", "podSelector: {}\npolicyTypes: [Ingress, Egress]\n"), "80/TCP",
                        "-..XXX...", ".-.XXX...", "..-XXX...", "XXX-XXXXX", "XXXX-XXXX", "XXXXX-XXX", "...XXX-..", "...XXX.-.", "...XXX..-"),
                mx("union of two policies on x/a", netpol("x", "from-y-a", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: a}}}]}]\n")
                        + netpol("x", "from-z-b", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: b}}}]}]\n"), "80/TCP",
                        "-........", "X-.......", "X.-......", "...-.....", "X...-....", "X....-...", "X.....-..", ".......-.", "X.......-"),
                // per Cilium, ipBlock selects only addresses outside the cluster: pod IPs keep their pod identity
                mx("x/a from ipBlock covering every pod IP", netpol("x", "ipblock", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{ipBlock: {cidr: 10.244.0.0/16}}]}]\n"), "80/TCP",
                        "-........", "X-.......", "X.-......", "X..-.....", "X...-....", "X....-...", "X.....-..", "X......-.", "X.......-"),
                mx("x/a from ns=y, egress of y/b to x denied", netpol("x", "from-y", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}]}]\n")
                        + netpol("y", "b-egress", "podSelector: {matchLabels: {pod: b}}\npolicyTypes: [Egress]\negress: [{to: [{namespaceSelector: {matchLabels: {ns: z}}}]}]\n"), "80/TCP",
                        "-........", "X-.......", "X.-......", "...-.....", "XXXX-X...", ".....-...", "X.....-..", "X......-.", "X.......-"));
    }

    static final String PORT_81 = netpol("x", "port-81", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{port: 81}]}]\n");
    static final String NAMED_81 = netpol("x", "named-81", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{port: serve-81-tcp}]}]\n");
    static final String RANGE = netpol("x", "range", """
            podSelector: {matchLabels: {pod: a}}
            ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{protocol: TCP, port: 80, endPort: 81}]}]
            """);
    static final String UDP_80 = netpol("x", "udp-80", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{protocol: UDP, port: 80}]}]\n");
    static final String EGRESS_DNS = netpol("x", "dns-only", """
            podSelector: {}
            policyTypes: [Egress]
            egress: [{ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]}]
            """);

    @ParameterizedTest(name = "{0}")
    @MethodSource("matrices")
    void reachability(Matrix m) {
        Scenario s = Scenario.ofYaml(CLUSTER + m.policies(), EnforcementMode.DEFAULT);
        StringBuilder actual = new StringBuilder();
        for (String from : PODS) {
            if (!actual.isEmpty()) actual.append('\n');
            for (String to : PODS) {
                if (from.equals(to)) {
                    actual.append('-');
                    continue;
                }
                Verdict v = s.verdict(from, to, m.port());
                actual.append(v == Verdict.FORWARDED ? '.' : v == Verdict.DROPPED ? 'X' : '?');
            }
        }
        assertThat(actual.toString()).as("%s, probing %s\nexpected:\n%s\nactual:\n%s\n", m.name(), m.port(),
                grid(m.expected()), grid(actual.toString())).isEqualTo(m.expected());
    }

    private static String grid(String rows) {
        StringBuilder sb = new StringBuilder("        " + String.join(" ", PODS) + "\n");
        String[] r = rows.split("\n");
        for (int i = 0; i < r.length; i++) {
            sb.append("   ").append(PODS.get(i)).append(" ");
            for (char c : r[i].toCharArray()) sb.append("  ").append(c).append(' ');
            sb.append('\n');
        }
        return sb.toString();
    }
}
