package dev.sieve.policy.model;

/**
 * A port or port range and its protocol. {@code port == 0} with no name means every port.
 * {@code namedPort} is set instead of a number when the policy names a container port.
 */
public record PortProtocol(int port, int endPort, String namedPort, Protocol protocol) {

    public boolean isWildcard() {
        return namedPort == null && port == 0;
    }

    public int low() {
        return isWildcard() ? 0 : port;
    }

    public int high() {
        return isWildcard() ? 65535 : (endPort > 0 ? endPort : port);
    }

    @Override
    public String toString() {
        String p = namedPort != null ? namedPort : isWildcard() ? "*" : endPort > port ? port + "-" + endPort : String.valueOf(port);
        return p + "/" + protocol;
    }
}
