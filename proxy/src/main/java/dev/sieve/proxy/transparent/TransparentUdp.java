package dev.sieve.proxy.transparent;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The node's transparent UDP sockets for redirected datagrams (DNS): answers sent from the address the client
 * asked (a socket bound to the original destination with IP_TRANSPARENT), and the proxy's own queries sent from
 * the client's address and marked as the proxy's. Sockets are created on the calling thread: call on the node
 * proxy's event loops.
 */
@SuppressWarnings("deprecation") // InternetProtocolFamily: Netty 4.1 and 4.2 both have it (see NodeProxy)
public final class TransparentUdp {

    /** Sends {@code payload} from {@code from} (any address, transparently) to {@code to}; the socket closes after. */
    public ChannelFuture reply(EventLoop loop, InetSocketAddress from, InetSocketAddress to, ByteBuf payload) {
        boolean v6 = from.getAddress() instanceof Inet6Address;
        Bootstrap b = new Bootstrap().group(loop)
                .channelFactory(() -> TransparentUpstream.marked(new EpollDatagramChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4), 0, v6))
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new ChannelInboundHandlerAdapter());
        ChannelFuture bound = b.bind(from);
        io.netty.channel.ChannelPromise sent = bound.channel().newPromise();
        bound.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                payload.release();
                sent.setFailure(f.cause());
                return;
            }
            f.channel().writeAndFlush(new DatagramPacket(payload, to)).addListener((ChannelFutureListener) w -> {
                w.channel().close();
                if (w.isSuccess()) sent.setSuccess();
                else sent.setFailure(w.cause());
            });
        });
        return sent;
    }

    /**
     * A UDP channel from {@code client} (port chosen by the kernel) to {@code destination}, marked as the proxy's
     * upstream for an {@code ingress} or egress redirect; the destination's answers reach {@code handler}.
     */
    public ChannelFuture upstream(EventLoop loop, InetAddress client, InetSocketAddress destination, boolean ingress,
                                  ChannelHandler handler) {
        boolean v6 = destination.getAddress() instanceof Inet6Address;
        int mark = ingress ? TransparentUpstream.MARK_PROXY_INGRESS : TransparentUpstream.MARK_PROXY_EGRESS;
        Bootstrap b = new Bootstrap().group(loop)
                .channelFactory(() -> TransparentUpstream.marked(new EpollDatagramChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4), mark, v6))
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .handler(handler);
        return b.connect(destination, new InetSocketAddress(client, 0));
    }
}
