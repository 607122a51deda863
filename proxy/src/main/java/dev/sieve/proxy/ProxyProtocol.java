package dev.sieve.proxy;

import io.netty.channel.Channel;

/**
 * One L7 protocol the proxy speaks over TCP (HTTP with gRPC, Kafka): set up the accepted client channel's pipeline
 * for {@code connection}. The listener calls it on the channel's event loop before any byte is read.
 */
@FunctionalInterface
public interface ProxyProtocol {

    void init(Channel client, ProxiedConnection connection);
}
