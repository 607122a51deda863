package dev.sieve.agent;

/** {@link ProxyRedirectE2E} with --local-delivery bpf. */
class ProxyRedirectBpfE2ETest extends ProxyRedirectE2E {
    @Override
    String delivery() {
        return "bpf";
    }
}
