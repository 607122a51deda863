package dev.sieve.policy.compute;

import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.identity.Identity;

/** A pod as the policy engine sees it: its identity and whether its verdicts are audited instead of enforced. */
public record Endpoint(Pod pod, Identity identity, boolean audit) {

    public String key() {
        return pod.key();
    }
}
