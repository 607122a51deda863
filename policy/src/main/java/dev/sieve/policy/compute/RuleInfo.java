package dev.sieve.policy.compute;

import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.PolicyKey;

/**
 * One rule of one policy, with the number the datapath reports in verdict events so that a flow can name
 * the policy that allowed or denied it. {@code path} is the rule's place, e.g. {@code spec.ingress[0]}.
 */
public record RuleInfo(int id, PolicyKey policy, String path, Direction direction, boolean deny) {

    @Override
    public String toString() {
        return policy.kind().kind + " " + policy.displayName() + " " + path;
    }
}
