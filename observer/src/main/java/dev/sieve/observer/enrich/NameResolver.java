package dev.sieve.observer.enrich;

import java.util.List;

/**
 * The DNS names an endpoint learned for an address (the agent's FQDN cache), for a flow's
 * {@code destination_names} (what the source endpoint resolved to reach the destination) and {@code source_names}
 * (what the destination endpoint resolved for the source). Must be cheap and safe to call from the enricher.
 */
@FunctionalInterface
public interface NameResolver {

    /** Names (without the trailing dot) {@code endpoint} learned that answered with {@code address}; empty if none. */
    List<String> names(byte[] endpoint, byte[] address);

    NameResolver NONE = (endpoint, address) -> List.of();
}
