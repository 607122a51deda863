package dev.sieve.policy.cluster;

import dev.sieve.policy.model.Protocol;

/** A container port of a pod; named ones resolve named ports in policies. */
public record ContainerPort(String name, int port, Protocol protocol) {}
