package dev.sieve.policy.compute;

/** Cilium's policy enforcement modes. */
public enum EnforcementMode {
    /** An endpoint is under policy, per direction, once a rule with rules for that direction selects it. */
    DEFAULT,
    /** Every endpoint is under policy in both directions, selected or not. */
    ALWAYS,
    /** No endpoint is under policy: everything passes. */
    NEVER;

    public static EnforcementMode parse(String s) {
        return switch (s.toLowerCase()) {
            case "default" -> DEFAULT;
            case "always" -> ALWAYS;
            case "never" -> NEVER;
            default -> throw new IllegalArgumentException("unknown enforcement mode \"" + s + "\" (expected default, always or never)");
        };
    }
}
