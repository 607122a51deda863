package dev.sieve.policy.model;

/** Which side of an endpoint a rule guards: traffic entering it (ingress) or leaving it (egress). */
public enum Direction {
    INGRESS, EGRESS;

    public String lower() {
        return name().toLowerCase();
    }
}
