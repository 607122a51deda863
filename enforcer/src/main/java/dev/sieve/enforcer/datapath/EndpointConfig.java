package dev.sieve.enforcer.datapath;

/**
 * Per-endpoint datapath settings: its id (the key of its policy entries), its own security
 * identity, whether each direction is enforced (unmatched traffic dropped) and audit mode
 * (would-be drops pass and are reported as AUDIT).
 */
public record EndpointConfig(int endpointId, int identity, boolean enforceIngress, boolean enforceEgress, boolean audit) {
    public EndpointConfig {
        if (endpointId == 0) {
            throw new IllegalArgumentException("endpoint id 0 is reserved");
        }
    }
}
