package dev.sieve.proxy;

import dev.sieve.policy.trace.ConnectionPolicy;
import java.net.InetSocketAddress;

/**
 * A client connection the proxy accepted: who it came from, where it was going before the datapath redirected
 * it, which side's policy sent it here, its policy, how to reach the original destination, and where to report.
 */
public record ProxiedConnection(InetSocketAddress client, InetSocketAddress originalDestination, boolean ingress,
                                int proxyPort, ConnectionPolicy policy, Upstream upstream, L7EventSink events) {}
