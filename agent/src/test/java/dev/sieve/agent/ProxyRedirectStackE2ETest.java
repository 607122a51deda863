package dev.sieve.agent;

/** {@link ProxyRedirectE2E} with --local-delivery stack. */
class ProxyRedirectStackE2ETest extends ProxyRedirectE2E {
    @Override
    String delivery() {
        return "stack";
    }
}
