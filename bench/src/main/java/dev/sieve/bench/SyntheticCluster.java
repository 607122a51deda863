package dev.sieve.bench;

import java.util.Random;

/**
 * Builds a synthetic cluster and policy set as manifest YAML: {@code endpoints} pods spread over 20
 * namespaces and 250 apps (two versions each, so about 500 identities), and {@code rules} CiliumNetworkPolicy
 * rules mixing label peers, matchExpressions, CIDRs, entities, port ranges, deny rules and L7.
 */
public final class SyntheticCluster {

    public static final int NAMESPACES = 20;
    public static final int APPS = 250;

    private SyntheticCluster() {}

    public static String app(int k) {
        return "svc-" + k;
    }

    public static String namespaceOf(int app) {
        return "ns-" + (app % NAMESPACES);
    }

    public static String yaml(int endpoints, int rules, long seed) {
        Random rnd = new Random(seed);
        StringBuilder y = new StringBuilder(1 << 20);
        for (int n = 0; n < NAMESPACES; n++) {
            y.append("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-").append(n)
             .append("\n  labels:\n    team: team-").append(n % 4).append('\n');
        }
        for (int i = 0; i < endpoints; i++) {
            int app = i % APPS;
            y.append("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: pod-").append(i)
             .append("\n  namespace: ").append(namespaceOf(app))
             .append("\n  labels:\n    app: ").append(app(app))
             .append("\n    tier: ").append(switch (app % 3) { case 0 -> "web"; case 1 -> "api"; default -> "db"; })
             .append("\n    version: v").append((i / APPS) % 2)
             .append("\nstatus:\n  podIP: 10.").append(128 + i / 65536).append('.').append((i / 256) % 256).append('.').append(i % 256).append('\n');
        }
        for (int r = 0; r < rules; r++) {
            int subject = rnd.nextInt(APPS);
            int peer = rnd.nextInt(APPS);
            String ns = namespaceOf(subject);
            y.append("---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: rule-").append(r)
             .append("\n  namespace: ").append(ns)
             .append("\nspec:\n  endpointSelector:\n    matchLabels:\n      app: ").append(app(subject)).append('\n');
            switch (r % 10) {
                case 0, 1, 2, 3 -> y.append("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n            app: ").append(app(peer))
                        .append("\n            \"k8s:io.kubernetes.pod.namespace\": ").append(namespaceOf(peer))
                        .append("\n      toPorts:\n        - ports:\n            - port: \"").append(8000 + rnd.nextInt(100)).append("\"\n              protocol: TCP\n");
                case 4 -> y.append("  ingress:\n    - fromEndpoints:\n        - matchExpressions:\n            - key: tier\n              operator: In\n              values: [web, api]\n")
                        .append("      toPorts:\n        - ports:\n            - port: \"9000\"\n              endPort: 9100\n              protocol: TCP\n");
                case 5 -> y.append("  egress:\n    - toCIDRSet:\n        - cidr: 172.").append(16 + r % 16).append(".0.0/16\n          except:\n            - 172.")
                        .append(16 + r % 16).append('.').append(rnd.nextInt(256)).append(".0/24\n").append("      toPorts:\n        - ports:\n            - port: \"443\"\n              protocol: TCP\n");
                case 6 -> y.append("  ingressDeny:\n    - fromEndpoints:\n        - matchLabels:\n            tier: db\n");
                case 7 -> y.append("  egress:\n    - toEntities: [kube-apiserver, world]\n      toPorts:\n        - ports:\n            - port: \"443\"\n              protocol: TCP\n");
                case 8 -> y.append("  ingress:\n    - fromEndpoints:\n        - matchLabels:\n            \"k8s:io.kubernetes.pod.namespace\": ").append(namespaceOf(peer))
                        .append("\n      toPorts:\n        - ports:\n            - port: \"80\"\n              protocol: TCP\n          rules:\n            http:\n              - method: GET\n                path: \"/api/.*\"\n");
                default -> y.append("  egress:\n    - toEndpoints:\n        - matchLabels:\n            app: ").append(app(peer))
                        .append("\n            \"k8s:io.kubernetes.pod.namespace\": ").append(namespaceOf(peer))
                        .append("\n      toPorts:\n        - ports:\n            - port: \"53\"\n              protocol: ANY\n");
            }
        }
        return y.toString();
    }
}
