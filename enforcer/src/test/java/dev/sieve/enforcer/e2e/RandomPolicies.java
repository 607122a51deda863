package dev.sieve.enforcer.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random CiliumNetworkPolicy YAML over the trace-agreement lab: labels app web/db/client, namespaces alpha/beta, world CIDRs. */
final class RandomPolicies {
    private RandomPolicies() {}

    static List<String> generate(Random r, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(policy(r, "p" + i));
        return out;
    }

    private static final String[] APPS = {"web", "db", "client"};
    private static final String[] NAMESPACES = {"alpha", "beta"};

    static String policy(Random r, String name) {
        StringBuilder sb = new StringBuilder();
        String ns = pick(r, NAMESPACES);
        sb.append("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: ").append(name)
          .append("\n  namespace: ").append(ns).append("\nspec:\n  endpointSelector:\n");
        if (r.nextInt(4) == 0) sb.append("    {}\n");
        else sb.append("    matchLabels:\n      app: ").append(pick(r, APPS)).append('\n');
        String[] sections = {"ingress", "egress", "ingressDeny", "egressDeny"};
        int n = 1 + r.nextInt(2);
        List<String> used = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String s = r.nextInt(3) == 0 ? sections[2 + r.nextInt(2)] : sections[r.nextInt(2)];
            if (used.contains(s)) continue;
            used.add(s);
            sb.append("  ").append(s).append(":\n");
            int rules = 1 + r.nextInt(2);
            for (int k = 0; k < rules; k++) rule(r, sb, s.startsWith("ingress") ? "from" : "to", s.endsWith("Deny"));
        }
        return sb.toString();
    }

    private static void rule(Random r, StringBuilder sb, String dir, boolean deny) {
        String first = "    - ";
        String ind = "      ";
        switch (r.nextInt(6)) {
            case 0, 1 -> {
                sb.append(first).append(dir).append("Endpoints:\n").append(ind).append("  - matchLabels:\n");
                if (r.nextBoolean()) sb.append(ind).append("      app: ").append(pick(r, APPS)).append('\n');
                if (r.nextInt(3) == 0) sb.append(ind).append("      k8s:io.kubernetes.pod.namespace: ").append(pick(r, NAMESPACES)).append('\n');
                else if (!sb.toString().endsWith("app: web\n") && !sb.toString().endsWith("app: db\n") && !sb.toString().endsWith("app: client\n"))
                    sb.append(ind).append("      app: ").append(pick(r, APPS)).append('\n');
            }
            case 2 -> sb.append(first).append(dir).append("Entities:\n").append(ind).append("  - ")
                    .append(pick(r, new String[] {"world", "cluster", "all", "host"})).append('\n');
            case 3 -> sb.append(first).append(dir).append("CIDR:\n").append(ind).append("  - ")
                    .append(pick(r, new String[] {"198.51.100.0/24", "198.51.100.128/25", "198.51.100.1/32", "0.0.0.0/0"})).append('\n');
            case 4 -> sb.append(first).append(dir).append("CIDRSet:\n").append(ind).append("  - cidr: 198.51.100.0/24\n")
                    .append(ind).append("    except:\n").append(ind).append("      - 198.51.100.128/25\n");
            default -> sb.append(first).append(dir).append("Endpoints:\n").append(ind).append("  - {}\n");
        }
        int ports = r.nextInt(4);
        if (ports == 0) return; // all ports
        if (ports == 1 && !deny) {
            sb.append(ind).append("icmps:\n").append(ind).append("  - fields:\n").append(ind).append("      - type: 8\n")
              .append(ind).append("        family: IPv4\n");
            return;
        }
        sb.append(ind).append("toPorts:\n").append(ind).append("  - ports:\n");
        int m = 1 + r.nextInt(2);
        for (int i = 0; i < m; i++) {
            int[] starts = {80, 443, 8000, 9090, 1};
            int start = starts[r.nextInt(starts.length)];
            sb.append(ind).append("      - port: \"").append(start).append("\"\n");
            if (r.nextInt(3) == 0) sb.append(ind).append("        endPort: ").append(start + pick(r, new int[] {1, 100, 1000})).append('\n');
            sb.append(ind).append("        protocol: ").append(pick(r, new String[] {"TCP", "UDP", "ANY", "TCP"})).append('\n');
        }
    }

    private static String pick(Random r, String[] a) {
        return a[r.nextInt(a.length)];
    }

    private static int pick(Random r, int[] a) {
        return a[r.nextInt(a.length)];
    }
}
