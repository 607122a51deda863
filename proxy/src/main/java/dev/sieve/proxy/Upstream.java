package dev.sieve.proxy;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;

/**
 * Opens the proxy's connection to a redirected connection's original destination. The node's transparent
 * upstream keeps the client's address as the source (the server sees the real client) and marks its packets so
 * the datapath judges them once; tests may connect plainly.
 */
@FunctionalInterface
public interface Upstream {

    /** Connects on {@code loop} (the client channel's, so both sides share a thread) with {@code handler}. */
    ChannelFuture connect(EventLoop loop, ChannelHandler handler);
}
