package dev.sieve.proxy.transparent;

import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.L7EventSink;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;

/**
 * One UDP datagram the datapath redirected: from {@code client} to {@code originalDestination} (read from
 * IP_ORIGDSTADDR), the side whose policy redirected it, the connection's policy, and how to answer.
 *
 * @param transport the node's transparent UDP sockets: {@link TransparentUdp#reply} sends the answer so that it
 *     comes from the original destination; {@link TransparentUdp#upstream} opens the query's way to it with the
 *     client's address as the source
 */
public record RedirectedDatagram(InetSocketAddress client, InetSocketAddress originalDestination, boolean ingress,
                                 int proxyPort, ConnectionPolicy policy, ByteBuf content, EventLoop loop,
                                 TransparentUdp transport, L7EventSink events) {

    /** Sends {@code answer} to the client from the original destination's address and port. */
    public io.netty.util.concurrent.Future<Void> reply(ByteBuf answer) {
        return transport.reply(loop, originalDestination, client, answer);
    }

    /**
     * A UDP channel bound to the client's address (transparent, marked as the proxy's) and connected to the
     * original destination; {@code handler} gets the server's answers as {@code DatagramPacket}s.
     */
    public ChannelFuture upstream(ChannelHandler handler) {
        return transport.upstream(loop, client.getAddress(), originalDestination, ingress, handler);
    }
}
