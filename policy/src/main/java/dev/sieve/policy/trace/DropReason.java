package dev.sieve.policy.trace;

/** The drop reasons a policy verdict can carry, with Hubble's numbers and names. */
public enum DropReason {
    POLICY_DENIED(133, "Policy denied"),
    POLICY_DENY(181, "Policy denied by denylist"),
    PROXY_DENIED(0, "Denied by L7 rules");

    public final int code;
    public final String description;

    DropReason(int code, String description) {
        this.code = code;
        this.description = description;
    }
}
