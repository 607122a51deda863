package dev.sieve.proxy.dns;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Sends one query over UDP to the server the pod asked and returns its answer. The node's implementation sends
 * it as the pod (transparently, marked so the datapath judges it once); {@link PlainDnsUpstream} sends it from the
 * proxy's own address (tests, benchmarks).
 */
@FunctionalInterface
public interface DnsUpstream {

    /** Completes with the server's answer, or exceptionally (e.g. {@link java.util.concurrent.TimeoutException}). */
    CompletableFuture<byte[]> exchange(InetSocketAddress client, InetSocketAddress server, byte[] query);
}
