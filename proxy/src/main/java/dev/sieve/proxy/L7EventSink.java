package dev.sieve.proxy;

/** Where the proxies send their {@link L7Event}s (the agent: enrich, flow buffer, metrics, relay). Must not block. */
@FunctionalInterface
public interface L7EventSink {

    void accept(L7Event event);
}
