package dev.sieve.enforcer.datapath;

import java.util.Locale;

/**
 * How a packet from one pod of this node to another reaches the receiver (config_value.flags in
 * {@code sieve_maps.h}). {@link #BPF} is the default, as BPF host routing is Cilium's where the
 * kernel allows it: in the steady-state throughput A/B of bench/results/datapath.md it was 3-4%
 * faster than no program at all (the host's forwarding skipped), where the stack path was 2-3%
 * slower. {@link #STACK} is for nodes whose host netfilter rules must see pod-to-pod traffic. (An
 * unwritten config, flags 0, is the stack: what an older agent left behind keeps its behaviour.)
 */
public enum LocalDelivery {
    /**
     * The sender's program judges the receiver's ingress policy too and puts the packet straight
     * into the receiver's namespace with {@code bpf_redirect_peer}, using the host's route and
     * neighbour entry: one hook per packet instead of two, and no trip through the host's routing
     * and forwarding (host netfilter rules do not see it), like Cilium's BPF host routing.
     */
    BPF,
    /** Through the host's stack, judged again by the receiver's program: host netfilter sees it. */
    STACK;

    /** {@code bpf} or {@code stack}, case-insensitive. */
    public static LocalDelivery parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("local delivery must be bpf or stack, got '" + s + "'");
        }
    }

    /** The config_value.flags bits (SIEVE_CFG_BPF_DELIVERY). */
    int configFlags() {
        return this == BPF ? 0x1 : 0;
    }
}
