package dev.sieve.policy.cluster;

import dev.sieve.policy.model.Protocol;

/** A port of a Service and the target port on its backends (a number or a container port name). */
public record ServicePort(String name, int port, String targetPort, Protocol protocol) {}
