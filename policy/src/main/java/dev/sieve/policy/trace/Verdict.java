package dev.sieve.policy.trace;

/** Verdicts with Hubble's names. NONE marks a direction no endpoint of ours guards. */
public enum Verdict {
    FORWARDED, DROPPED, AUDIT, REDIRECTED, NONE
}
