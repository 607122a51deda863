package dev.sieve.enforcer.maps;

/** Traffic direction relative to the pod, numbered like Hubble's TrafficDirection. */
public enum Direction {
    INGRESS(1),
    EGRESS(2);

    private final int code;

    Direction(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Direction of(int code) {
        return switch (code) {
            case 1 -> INGRESS;
            case 2 -> EGRESS;
            default -> throw new IllegalArgumentException("unknown direction code " + code);
        };
    }
}
