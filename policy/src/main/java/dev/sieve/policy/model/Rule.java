package dev.sieve.policy.model;

import dev.sieve.policy.labels.LabelSelector;
import java.util.List;

/**
 * One policy rule (one {@code spec} of a Cilium policy, or a whole NetworkPolicy after translation):
 * the endpoints it applies to and its rules per direction. The endpoint selector already carries the
 * namespace requirement of a namespaced policy. {@code defaultDenyIngress/Egress} say whether selecting an
 * endpoint turns on default deny for that direction (Cilium's enableDefaultDeny, defaulted).
 */
public record Rule(PolicyKey policy, SourceRef source, String path, LabelSelector endpointSelector,
                   LabelSelector nodeSelector, List<PeerRule> ingress, List<PeerRule> egress,
                   boolean defaultDenyIngress, boolean defaultDenyEgress, String description) {

    public List<PeerRule> rules(Direction d) {
        return d == Direction.INGRESS ? ingress : egress;
    }

    /** True when this rule has anything to say for the direction, which puts the endpoint under policy. */
    public boolean defaultDeny(Direction d) {
        return d == Direction.INGRESS ? defaultDenyIngress : defaultDenyEgress;
    }

    public boolean hasRules(Direction d) {
        return !rules(d).isEmpty();
    }
}
