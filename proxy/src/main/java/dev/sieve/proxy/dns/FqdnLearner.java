package dev.sieve.proxy.dns;

import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where the DNS proxy reports what an answer said, before it releases the answer to the pod. The agent's
 * implementation gives the addresses the FQDN identity of every toFQDNs selector of the endpoint's policy that
 * matches one of the names, and completes once the ipcache and policy maps say so; the proxy sends the answer
 * only then, so the pod's first connection to a just-resolved address is not dropped.
 */
@FunctionalInterface
public interface FqdnLearner {

    /**
     * {@code names}: the queried name and the CNAME chain from it (normalized: lower case, no trailing dot);
     * {@code ips}: the A/AAAA addresses at the end of that chain; {@code ttlSeconds}: the smallest TTL among
     * the chain's records. Completes when the datapath allows what was learned (at once when nothing was);
     * completes exceptionally when it could not be written (the proxy then answers SERVFAIL, failing closed).
     */
    CompletableFuture<Void> learn(InetAddress endpoint, List<String> names, List<InetAddress> ips, long ttlSeconds);

    /** Learns nothing (a proxy without toFQDNs, or tests of the protocol alone). */
    FqdnLearner NONE = (endpoint, names, ips, ttl) -> CompletableFuture.completedFuture(null);
}
