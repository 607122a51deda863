package dev.sieve.proxy.transparent;

import dev.sieve.proxy.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The proxy's connection to a redirected connection's original destination, as the node makes it: bound to the
 * client's own address (IP_TRANSPARENT), so the server sees the real client, and marked (SO_MARK, Cilium's
 * MARK_MAGIC_PROXY_INGRESS / _EGRESS) so the datapath judges it once and sends the server's replies back to this
 * socket rather than to the client pod.
 *
 * <p>{@link #connect} creates the socket on the calling thread, which must be in the datapath's network
 * namespace: call it on the client channel's event loop (the node proxy's threads live there).
 */
@SuppressWarnings("deprecation") // InternetProtocolFamily: Netty 4.1 and 4.2 both have it (see NodeProxy)
public final class TransparentUpstream implements Upstream {

    /** skb->mark of the proxy's upstream packets for an ingress redirect (Cilium's MARK_MAGIC_PROXY_INGRESS). */
    public static final int MARK_PROXY_INGRESS = 0x0A00;
    /** ... for an egress redirect (MARK_MAGIC_PROXY_EGRESS). */
    public static final int MARK_PROXY_EGRESS = 0x0B00;

    private final InetAddress client;
    private final InetSocketAddress destination;
    private final int mark;

    /**
     * @param client the address to send from (the client's)
     * @param destination the original destination
     * @param ingress whether the destination's ingress policy redirected the connection (else the client's egress)
     */
    public TransparentUpstream(InetAddress client, InetSocketAddress destination, boolean ingress) {
        this.client = client;
        this.destination = destination;
        this.mark = ingress ? MARK_PROXY_INGRESS : MARK_PROXY_EGRESS;
    }

    @Override
    public ChannelFuture connect(EventLoop loop, ChannelHandler handler) {
        boolean v6 = destination.getAddress() instanceof Inet6Address;
        Bootstrap b = new Bootstrap().group(loop)
                .channelFactory(() -> marked(new EpollSocketChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4), mark, v6))
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(handler);
        return b.connect(destination, new InetSocketAddress(client, 0));
    }

    static <C extends io.netty.channel.Channel & io.netty.channel.unix.UnixChannel> C marked(C ch, int mark, boolean v6) {
        try {
            SocketOptions.set(ch, SocketOptions.SOL_SOCKET, SocketOptions.SO_MARK, mark);
            if (v6) SocketOptions.set(ch, SocketOptions.SOL_IPV6, SocketOptions.IPV6_TRANSPARENT, 1);
        } catch (IOException e) {
            ch.unsafe().closeForcibly();
            throw new ChannelException("transparent upstream socket: " + e.getMessage() + " (needs CAP_NET_ADMIN)", e);
        }
        return ch;
    }

    @Override
    public String toString() {
        return "TransparentUpstream[" + client.getHostAddress() + " -> " + destination + ", mark 0x" + Integer.toHexString(mark) + "]";
    }
}
