package dev.sieve.enforcer.maps;

/** What a policy map entry does with matching traffic (policy_value.action). */
public enum Action {
    ALLOW(1),
    DENY(2),
    /** Allow, and steer the connection to the L7 proxy on the entry's proxy port. */
    REDIRECT(3);

    private final int code;

    Action(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Action of(int code) {
        return switch (code) {
            case 1 -> ALLOW;
            case 2 -> DENY;
            case 3 -> REDIRECT;
            default -> throw new IllegalArgumentException("unknown policy action code " + code);
        };
    }
}
