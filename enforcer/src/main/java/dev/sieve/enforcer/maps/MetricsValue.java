package dev.sieve.enforcer.maps;

/** Packets and bytes, summed over CPUs. */
public record MetricsValue(long packets, long bytes) {}
