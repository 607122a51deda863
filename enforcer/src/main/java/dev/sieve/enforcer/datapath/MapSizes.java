package dev.sieve.enforcer.datapath;

/**
 * Capacities of the datapath's maps, set before load. The defaults are sized for a cluster of 10k pods, as
 * Cilium's are: conntrack 524,288 (Cilium's {@code bpf-ct-global-tcp-max}), ipcache 512,000 (Cilium's
 * {@code cilium_ipcache}), endpoints 65,535 (Cilium's endpoint map), and one policy map for all of the node's
 * endpoints of 1,048,576 entries (Cilium's {@code bpf-policy-map-max} is 16,384 per endpoint: 64 endpoints
 * at that maximum; an LPM trie allocates only what is used). A map already pinned keeps its size.
 */
public record MapSizes(int conntrack, int policy, int ipcache, int endpoints) {
    public static final MapSizes DEFAULT = new MapSizes(524_288, 1_048_576, 512_000, 65_535);

    public MapSizes {
        check("conntrack", conntrack);
        check("policy", policy);
        check("ipcache", ipcache);
        check("endpoints", endpoints);
    }

    private static void check(String map, int size) {
        if (size < 1 || size > (1 << 24)) {
            throw new IllegalArgumentException(map + " map size must be 1.." + (1 << 24) + ": " + size);
        }
    }

    public MapSizes withConntrack(int n) {
        return new MapSizes(n, policy, ipcache, endpoints);
    }

    public MapSizes withPolicy(int n) {
        return new MapSizes(conntrack, n, ipcache, endpoints);
    }

    public MapSizes withIpcache(int n) {
        return new MapSizes(conntrack, policy, n, endpoints);
    }

    public MapSizes withEndpoints(int n) {
        return new MapSizes(conntrack, policy, ipcache, n);
    }
}
