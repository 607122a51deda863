package dev.sieve.enforcer.datapath;

import java.util.Locale;

/**
 * How a packet from one pod of this node to another reaches the receiver (config_value.flags in
 * {@code sieve_maps.h}). {@link #STACK} is the default: in this repository's benchmark (a node
 * without netfilter rules) BPF delivery was no faster and its one program costs more than the two
 * it replaces (bench/results/datapath.md); it pays where the host's forwarding is expensive
 * (netfilter conntrack, long FORWARD chains), which it skips.
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
