package dev.sieve.proxy;

import dev.sieve.policy.trace.ConnectionPolicy;
import java.net.InetAddress;

/**
 * The policy engine as the proxies see it: the policy of a connection the datapath redirected, looked up once when
 * the proxy accepts it. The agent implements it over its engine (under the engine's lock).
 */
@FunctionalInterface
public interface ConnectionPolicies {

    /**
     * The policy of a connection from {@code client} to {@code server} on {@code l4Protocol} (6, 17) and
     * {@code port}. A proxy that gets a policy that is neither redirected nor forwarded closes the connection.
     */
    ConnectionPolicy lookup(InetAddress client, InetAddress server, int l4Protocol, int port);
}
