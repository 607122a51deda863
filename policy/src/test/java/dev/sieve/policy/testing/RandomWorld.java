package dev.sieve.policy.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random small clusters and random policies over them, as YAML, for property tests. Everything is drawn from
 * one {@link Random}, so a seed reproduces a case exactly.
 */
public final class RandomWorld {

    public static final List<String> NAMESPACES = List.of("ns0", "ns1", "ns2");
    static final List<String> APPS = List.of("web", "db", "api");
    static final List<String> CIDRS = List.of("192.0.2.0/24", "198.51.100.0/24", "10.0.0.0/8", "2001:db8::/32",
            "2001:db8:1::/48", "203.0.113.0/24", "8.8.8.8/32");
    static final List<String[]> CIDR_SETS = List.of(new String[] {"192.0.2.0/24", "192.0.2.128/25"},
            new String[] {"10.0.0.0/8", "10.1.0.0/16"}, new String[] {"2001:db8::/32", "2001:db8:1::/48"},
            new String[] {"198.51.100.0/24", "198.51.100.0/28"});
    static final List<String> ENTITIES = List.of("world", "cluster", "host", "remote-node", "kube-apiserver", "init",
            "health", "unmanaged", "all");
    static final List<String> FQDNS = List.of("{matchName: api.example.com}", "{matchPattern: \"*.example.com\"}",
            "{matchPattern: \"**.example.org\"}", "{matchPattern: \"*\"}", "{matchName: db.example.org}");
    /** Peers traffic is traced from and to, besides pods: addresses inside and outside the CIDRs above, reserved ones, DNS names. */
    public static final List<String> OTHER_PEERS = List.of("ip:192.0.2.5", "ip:192.0.2.200", "ip:198.51.100.9",
            "ip:198.51.100.3", "ip:10.1.2.3", "ip:10.9.9.9", "ip:203.0.113.50", "ip:8.8.8.8", "ip:8.8.4.4",
            "ip:2001:db8::5", "ip:2001:db8:1::5", "ip:2001:dbf::1", "ip:10.250.0.1", "ip:10.96.0.1", "entity:host",
            "entity:health", "entity:init", "entity:unmanaged", "entity:world", "fqdn:api.example.com=203.0.113.10",
            "fqdn:www.example.com=192.0.2.11", "fqdn:a.b.example.org=198.51.100.12", "fqdn:example.com=203.0.113.13",
            "fqdn:db.example.org=100.64.0.14");
    public static final List<String> PORTS = List.of("80/TCP", "443/TCP", "8080/TCP", "8050/TCP", "5432/TCP", "9090/TCP",
            "53/UDP", "53/TCP", "80/SCTP", "5000/UDP", "8/ICMP", "0/ICMP", "128/ICMPV6");

    private final Random r;
    public final List<String> pods = new ArrayList<>();

    public RandomWorld(Random r) {
        this.r = r;
    }

    <T> T pick(List<T> l) {
        return l.get(r.nextInt(l.size()));
    }

    boolean chance(double p) {
        return r.nextDouble() < p;
    }

    // ---- cluster ---------------------------------------------------------------------------------

    public String namespace(String name) {
        StringBuilder sb = new StringBuilder("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n  labels: {env: " + pick(List.of("prod", "dev")));
        if (chance(0.4)) sb.append(", team: ops");
        sb.append("}\n");
        if (chance(0.1)) sb.append("  annotations: {policy.sieve.dev/audit-mode: \"true\"}\n");
        return sb.append("---\n").toString();
    }

    public String pod(String ns, String name, int index) {
        String app = pick(APPS);
        StringBuilder sb = new StringBuilder("apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n  labels: {app: " + app);
        if (chance(0.5)) sb.append(", tier: ").append(pick(List.of("a", "b")));
        sb.append("}\n");
        if (chance(0.08)) sb.append("  annotations: {policy.sieve.dev/audit-mode: \"true\"}\n");
        // container ports follow the app, so pods that share an identity share their named ports
        String ports = switch (app) {
            case "web" -> "[{name: http, containerPort: 8080}]";
            case "db" -> "[{name: db, containerPort: 5432}, {name: metrics, containerPort: 9090}]";
            default -> "[{name: http, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]";
        };
        sb.append("spec: {containers: [{name: c, ports: ").append(ports).append("}]}\n");
        sb.append("status: {podIPs: [{ip: 10.244.").append(NAMESPACES.indexOf(ns)).append('.').append(index + 10)
          .append("}, {ip: \"fd00:10:244::").append(Integer.toHexString(index + 16)).append("\"}]}\n---\n");
        return sb.toString();
    }

    public String cluster() {
        StringBuilder sb = new StringBuilder();
        for (String ns : NAMESPACES) sb.append(namespace(ns));
        int n = 4 + r.nextInt(5);
        for (int i = 0; i < n; i++) {
            String ns = pick(NAMESPACES);
            String name = "p" + i;
            pods.add(ns + "/" + name);
            sb.append(pod(ns, name, i));
        }
        sb.append("""
                apiVersion: v1
                kind: Service
                metadata: {name: svc-web, namespace: ns0, labels: {tier: front}}
                spec: {selector: {app: web}, clusterIP: 10.96.0.20, ports: [{port: 80, targetPort: http}]}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: svc-db, namespace: ns1}
                spec: {selector: {app: db}, clusterIP: 10.96.0.21, ports: [{port: 5432}]}
                ---
                apiVersion: v1
                kind: Node
                metadata: {name: node-1}
                status: {addresses: [{type: InternalIP, address: 10.250.0.1}]}
                ---
                apiVersion: v1
                kind: Endpoints
                metadata: {name: kubernetes, namespace: default}
                subsets: [{addresses: [{ip: 10.96.0.1}], ports: [{port: 443}]}]
                ---
                """);
        return sb.toString();
    }

    // ---- policies --------------------------------------------------------------------------------

    public String policies(int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            int kind = r.nextInt(10);
            if (kind < 5) sb.append(cilium("CiliumNetworkPolicy", "pol" + i, pick(NAMESPACES)));
            else if (kind < 7) sb.append(cilium("CiliumClusterwideNetworkPolicy", "pol" + i, null));
            else sb.append(networkPolicy("pol" + i, pick(NAMESPACES)));
        }
        return sb.toString();
    }

    String selector() {
        return switch (r.nextInt(11)) {
            case 0, 1 -> "{}";
            case 2, 3 -> "{matchLabels: {app: " + pick(APPS) + "}}";
            case 4 -> "{matchLabels: {tier: " + pick(List.of("a", "b")) + "}}";
            case 5 -> "{matchLabels: {app: " + pick(APPS) + ", \"k8s:io.kubernetes.pod.namespace\": " + pick(NAMESPACES) + "}}";
            case 6 -> "{matchLabels: {\"k8s:io.cilium.k8s.namespace.labels.env\": " + pick(List.of("prod", "dev")) + "}}";
            case 7 -> "{matchExpressions: [{key: app, operator: In, values: [" + pick(APPS) + ", " + pick(APPS) + "]}]}";
            case 8 -> "{matchExpressions: [{key: app, operator: NotIn, values: [" + pick(APPS) + "]}]}";
            case 9 -> "{matchExpressions: [{key: tier, operator: " + pick(List.of("Exists", "DoesNotExist")) + "}]}";
            default -> "{matchLabels: {\"any:app\": " + pick(APPS) + "}}";
        };
    }

    String subjectSelector() {
        return switch (r.nextInt(5)) {
            case 0 -> "{}";
            case 1 -> "{matchExpressions: [{key: tier, operator: Exists}]}";
            default -> "{matchLabels: {app: " + pick(APPS) + "}}";
        };
    }

    String cilium(String kind, String name, String ns) {
        StringBuilder sb = new StringBuilder("apiVersion: cilium.io/v2\nkind: " + kind + "\nmetadata: {name: " + name
                + (ns == null ? "" : ", namespace: " + ns) + "}\n");
        int specs = chance(0.15) ? 2 : 1;
        if (specs == 1) sb.append("spec:\n").append(rule().indent(2));
        else {
            sb.append("specs:\n");
            for (int i = 0; i < specs; i++) sb.append(("- " + rule().indent(2).substring(2)).indent(2));
        }
        return sb.append("---\n").toString();
    }

    String rule() {
        StringBuilder sb = new StringBuilder("endpointSelector: " + subjectSelector() + "\n");
        if (chance(0.12)) sb.append("enableDefaultDeny: {" + pick(List.of("ingress: false", "egress: false", "ingress: false, egress: false")) + "}\n");
        boolean any = false;
        for (String section : List.of("ingress", "ingressDeny", "egress", "egressDeny")) {
            boolean deny = section.endsWith("Deny");
            if (!chance(deny ? 0.3 : 0.55)) continue;
            any = true;
            sb.append(section).append(":\n");
            int n = 1 + r.nextInt(2);
            for (int i = 0; i < n; i++) sb.append(("- " + peerRule(section.startsWith("ingress"), deny).indent(2).substring(2)).indent(2));
        }
        if (!any) sb.append("ingress:\n  - fromEntities: [" + pick(ENTITIES) + "]\n");
        return sb.toString();
    }

    String peerRule(boolean ingress, boolean deny) {
        String p = ingress ? "from" : "to";
        StringBuilder sb = new StringBuilder();
        int peers = r.nextInt(3);
        for (int i = 0; i < peers; i++) {
            switch (r.nextInt(ingress ? 5 : 7)) {
                case 0, 1 -> sb.append(p).append("Endpoints: [").append(selector()).append(chance(0.3) ? ", " + selector() : "").append("]\n");
                case 2 -> sb.append(p).append("CIDR: [\"").append(pick(CIDRS)).append("\"]\n");
                case 3 -> {
                    String[] cs = pick(CIDR_SETS);
                    sb.append(p).append("CIDRSet: [{cidr: \"").append(cs[0]).append('"').append(chance(0.7) ? ", except: [\"" + cs[1] + "\"]" : "").append("}]\n");
                }
                case 4 -> sb.append(p).append("Entities: [").append(pick(ENTITIES)).append(chance(0.3) ? ", " + pick(ENTITIES) : "").append("]\n");
                case 5 -> {
                    if (deny) sb.append("toEntities: [").append(pick(ENTITIES)).append("]\n");
                    else sb.append("toFQDNs: [").append(pick(FQDNS)).append("]\n");
                }
                default -> sb.append("toServices: [").append(chance(0.5)
                        ? "{k8sService: {serviceName: " + pick(List.of("svc-web", "svc-db")) + ", namespace: " + pick(List.of("ns0", "ns1")) + "}}"
                        : "{k8sServiceSelector: {selector: {matchLabels: {tier: front}}, namespace: ns0}}").append("]\n");
            }
        }
        // the same key twice in one mapping is not what we want: merge duplicates by keeping the first
        String body = dedupeKeys(sb.toString());
        StringBuilder out = new StringBuilder(body);
        if (!deny && chance(0.15)) out.append(p).append("Requires: [").append(selector()).append("]\n");
        int l4 = r.nextInt(10);
        if (l4 < 4) {
            // every port
        } else if (l4 < 5) {
            out.append("icmps: [{fields: [").append(chance(0.5) ? "{type: 8}" : "{type: EchoRequest, family: IPv6}").append("]}]\n");
        } else if (!deny && chance(0.35)) {
            out.append("toPorts: [{ports: [{port: \"").append(pick(List.of("80", "8080"))).append("\", protocol: TCP}], rules: {http: [{method: GET}]}}]\n");
        } else {
            out.append("toPorts: [{ports: [").append(port());
            if (chance(0.3)) out.append(", ").append(port());
            out.append("]}]\n");
        }
        if (out.isEmpty()) out.append("{}\n");
        return out.toString();
    }

    private static String dedupeKeys(String lines) {
        StringBuilder out = new StringBuilder();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String l : lines.split("\n")) {
            if (l.isEmpty()) continue;
            if (seen.add(l.substring(0, l.indexOf(':')))) out.append(l).append('\n');
        }
        return out.toString();
    }

    String port() {
        String proto = pick(List.of("", ", protocol: TCP", ", protocol: UDP", ", protocol: SCTP", ", protocol: ANY"));
        return switch (r.nextInt(8)) {
            case 0 -> "{port: \"8000\", endPort: 8100" + proto + "}";
            case 1 -> "{port: " + pick(List.of("http", "db", "dns", "metrics")) + proto + "}";
            case 2 -> "{port: \"0\"" + proto + "}";
            default -> "{port: \"" + pick(List.of("80", "443", "53", "8080", "5432", "5000")) + "\"" + proto + "}";
        };
    }

    String networkPolicy(String name, String ns) {
        StringBuilder sb = new StringBuilder("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n");
        sb.append("  podSelector: ").append(chance(0.4) ? "{}" : "{matchLabels: {app: " + pick(APPS) + "}}").append('\n');
        boolean in = chance(0.7), eg = chance(0.5);
        if (!in && !eg) in = true;
        sb.append("  policyTypes: [").append(in ? "Ingress" : "").append(in && eg ? ", " : "").append(eg ? "Egress" : "").append("]\n");
        for (String dir : List.of("ingress", "egress")) {
            if (!(dir.equals("ingress") ? in : eg) || chance(0.2)) continue;
            sb.append("  ").append(dir).append(":\n");
            int n = 1 + r.nextInt(2);
            for (int i = 0; i < n; i++) {
                StringBuilder rule = new StringBuilder();
                if (chance(0.75)) {
                    rule.append(dir.equals("ingress") ? "from" : "to").append(":\n");
                    int peers = 1 + r.nextInt(2);
                    for (int j = 0; j < peers; j++) rule.append("  - ").append(npPeer()).append('\n');
                }
                if (chance(0.6)) {
                    rule.append("ports:\n");
                    int ports = 1 + r.nextInt(2);
                    for (int j = 0; j < ports; j++) rule.append("  - ").append(npPort()).append('\n');
                }
                if (rule.isEmpty()) rule.append("{}\n");
                sb.append(("- " + rule.toString().indent(2).substring(2)).indent(4));
            }
        }
        return sb.append("---\n").toString();
    }

    String npPeer() {
        return switch (r.nextInt(5)) {
            case 0 -> "{podSelector: " + selectorK8s() + "}";
            case 1 -> "{namespaceSelector: " + nsSelector() + "}";
            case 2 -> "{namespaceSelector: " + nsSelector() + ", podSelector: " + selectorK8s() + "}";
            default -> {
                String[] cs = pick(CIDR_SETS);
                yield chance(0.5) ? "{ipBlock: {cidr: \"" + cs[0] + "\", except: [\"" + cs[1] + "\"]}}" : "{ipBlock: {cidr: \"" + pick(CIDRS) + "\"}}";
            }
        };
    }

    String selectorK8s() {
        return switch (r.nextInt(4)) {
            case 0 -> "{}";
            case 1 -> "{matchExpressions: [{key: app, operator: NotIn, values: [" + pick(APPS) + "]}]}";
            default -> "{matchLabels: {app: " + pick(APPS) + "}}";
        };
    }

    String nsSelector() {
        return switch (r.nextInt(4)) {
            case 0 -> "{}";
            case 1 -> "{matchLabels: {team: ops}}";
            case 2 -> "{matchLabels: {kubernetes.io/metadata.name: " + pick(NAMESPACES) + "}}";
            default -> "{matchLabels: {env: " + pick(List.of("prod", "dev")) + "}}";
        };
    }

    String npPort() {
        String proto = pick(List.of("", "protocol: TCP, ", "protocol: UDP, ", "protocol: SCTP, "));
        return switch (r.nextInt(5)) {
            case 0 -> "{" + proto + "port: 8000, endPort: 8100}";
            case 1 -> "{" + proto + "port: " + pick(List.of("http", "db", "dns")) + "}";
            case 2 -> "{" + proto.replace(", ", "") + "}";
            default -> "{" + proto + "port: " + pick(List.of(80, 443, 53, 8080, 5432)) + "}";
        };
    }

    public String peer() {
        return chance(0.55) ? pick(pods) : pick(OTHER_PEERS);
    }
}
