package dev.sieve.policy.compute;

import dev.sieve.policy.l7.L7Rules;
import java.util.List;

/**
 * The result of looking traffic up in computed entries. {@code action} is null when no entry matched.
 * {@code rule} is the deciding rule (the deny, or the first allow); {@code matched} every rule whose entry
 * matched, allows and denies; {@code l7} the L7 rule sets to apply when the action is REDIRECT, and
 * {@code l7Owners} the rule each of those sets belongs to (same order).
 */
public record Match(Action action, RuleInfo rule, List<RuleInfo> matched, List<L7Rules> l7, List<RuleInfo> l7Owners) {

    public static final Match NONE = new Match(null, null, List.of(), List.of(), List.of());

    public boolean isNone() {
        return action == null;
    }
}
