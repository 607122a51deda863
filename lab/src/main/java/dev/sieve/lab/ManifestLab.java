package dev.sieve.lab;

import dev.sieve.policy.manifest.ManifestSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds lab hosts that mirror a manifest set: one lab pod per Pod manifest with an address (its
 * first IPv4 and first IPv6 status address), named after the pod (made unique and short enough
 * for the lab), and one external host per API server address (Endpoints default/kubernetes) that
 * no pod has. The node's own address is {@link Lab#NODE_IPV4}; give the local Node manifest that
 * address to make the node the {@code host} entity.
 */
public final class ManifestLab {
    /** Lab name of the external host that holds the API server address(es). */
    public static final String APISERVER = "kube-apiserver";

    private ManifestLab() {}

    /** Adds the hosts of {@code set} to {@code lab}; returns lab hosts by pod key (namespace/name) and for externals by name. */
    public static Map<String, Pod> populate(Lab lab, ManifestSet set) {
        Map<String, Pod> result = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        lab.pods().forEach(p -> used.add(p.name()));
        Set<String> podIps = new HashSet<>();
        for (dev.sieve.policy.cluster.Pod p : set.pods()) {
            String v4 = first(p.ips(), false);
            String v6 = first(p.ips(), true);
            if (v4 == null) {
                continue; // the lab's pods need an IPv4 address; IPv6-only pods are left out
            }
            podIps.addAll(p.ips());
            String name = uniqueName(p.name(), used);
            result.put(p.key(), lab.addPod(name, v4, v6));
        }
        int n = 0;
        for (String ip : set.apiServerIps()) {
            if (podIps.contains(ip) || ip.contains(":")) {
                continue;
            }
            String name = uniqueName(n++ == 0 ? APISERVER : APISERVER + n, used);
            result.put(name, lab.addExternal(name, ip, null));
        }
        return result;
    }

    static String first(List<String> ips, boolean v6) {
        for (String ip : ips) {
            if (ip.contains(":") == v6) {
                return ip;
            }
        }
        return null;
    }

    static String uniqueName(String wanted, Set<String> used) {
        String base = wanted.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-").replaceAll("^-+", "");
        if (base.isEmpty()) {
            base = "pod";
        }
        if (base.length() > 20) {
            base = base.substring(0, 20);
        }
        String name = base;
        for (int i = 2; used.contains(name) || name.equals("node"); i++) {
            String suffix = "-" + i;
            name = base.substring(0, Math.min(base.length(), 20 - suffix.length())) + suffix;
        }
        used.add(name);
        return name;
    }
}
