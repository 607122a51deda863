package dev.sieve.policy.cluster;

import dev.sieve.policy.model.SourceRef;
import java.util.List;
import java.util.Map;

/** A Kubernetes Node: its addresses have the host identity on itself and remote-node elsewhere. */
public record Node(String name, Map<String, String> labels, List<String> ips, SourceRef source) {}
