package dev.sieve.policy.compute;

/** What a policy entry does with matching traffic. REDIRECT sends it to the L7 proxy with the entry's L7 rules. */
public enum Action {
    ALLOW, DENY, REDIRECT
}
