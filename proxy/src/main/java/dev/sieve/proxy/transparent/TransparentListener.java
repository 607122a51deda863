package dev.sieve.proxy.transparent;

import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.ConnectionPolicies;
import dev.sieve.proxy.L7EventSink;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One listener of the node proxy on one port: TCP on 0.0.0.0 and [::] (IPv6-only) with IP_TRANSPARENT, where the
 * datapath assigns redirected connections, so an accepted channel's local address is the original destination;
 * for protocols over UDP also UDP sockets with IP_RECVORIGDSTADDR. A connection or datagram whose policy the
 * engine does not know, or drops, or whose protocol has no handler yet, is closed (fail closed).
 */
@SuppressWarnings("deprecation") // InternetProtocolFamily: Netty 4.1 and 4.2 both have it (see NodeProxy)
final class TransparentListener {

    private static final Logger LOG = Logger.getLogger(TransparentListener.class.getName());

    private final ProxyListener key;
    private final int port;
    private final ConnectionPolicies policies;
    private final L7EventSink events;
    private final Function<ProxyListener, ProxyProtocol> tcp;
    private final Function<ProxyListener, DatagramProtocol> udp;
    private final TransparentUdp udpTransport = new TransparentUdp();
    private final ListenerStats stats;
    private final List<Channel> channels = new ArrayList<>();
    /** The accepted TCP connections still open (a closed one leaves the group by itself). */
    private final io.netty.channel.group.ChannelGroup connections =
            new io.netty.channel.group.DefaultChannelGroup(io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);
    private Ipv6DatagramReceiver udp6;

    TransparentListener(ProxyListener key, int port, ConnectionPolicies policies, L7EventSink events,
                        Function<ProxyListener, ProxyProtocol> tcp, Function<ProxyListener, DatagramProtocol> udp,
                        ListenerStats stats) {
        this.key = key;
        this.stats = stats;
        this.port = port;
        this.policies = policies;
        this.events = events;
        this.tcp = tcp;
        this.udp = udp;
    }

    int port() {
        return port;
    }

    List<Channel> channels() {
        return channels;
    }

    /** Binds every socket; on failure closes what it bound and throws. Runs on a thread in the datapath's netns. */
    void bind(EventLoopGroup group, boolean withUdp, boolean ipv6, java.util.concurrent.ThreadFactory threads) throws IOException {
        try {
            channels.add(bindTcp(group, false));
            if (ipv6) channels.add(bindTcp(group, true));
            if (withUdp) {
                channels.add(bindUdp(group, false));
                if (ipv6) {
                    udp6 = new Ipv6DatagramReceiver(port, threads, (payload, sender, original) -> {
                        io.netty.channel.EventLoop loop = group.next();
                        loop.execute(() -> {
                            io.netty.buffer.ByteBuf content = io.netty.buffer.Unpooled.wrappedBuffer(payload);
                            try {
                                datagram(loop, content, sender, original);
                            } finally {
                                content.release();
                            }
                        });
                    });
                }
            }
        } catch (Exception e) {
            close();
            throw e instanceof IOException io ? io : new IOException(key + " on port " + port + ": " + e.getMessage(), e);
        }
    }

    void close() {
        for (Channel c : channels) c.close().syncUninterruptibly();
        channels.clear();
        if (udp6 != null) udp6.close();
        udp6 = null;
        udpTransport.close();
    }

    /** Resets every accepted connection (what the proxy's death does to them); returns how many. */
    int resetConnections() {
        int n = 0;
        for (Channel c : connections) {
            reset(c);
            n++;
        }
        return n;
    }

    private Channel bindTcp(EventLoopGroup group, boolean v6) throws IOException {
        ServerBootstrap b = new ServerBootstrap().group(group)
                .channelFactory(() -> {
                    EpollServerSocketChannel ch = new EpollServerSocketChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4);
                    v6Only(ch, v6);
                    return ch;
                })
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted(ch);
                    }
                });
        return await(b.bind(new InetSocketAddress(v6 ? "::" : "0.0.0.0", port)), v6 ? "tcp6" : "tcp");
    }

    private Channel bindUdp(EventLoopGroup group, boolean v6) throws IOException {
        Bootstrap b = new Bootstrap().group(group)
                .channelFactory(() -> {
                    EpollDatagramChannel ch = new EpollDatagramChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4);
                    v6Only(ch, v6);
                    if (v6) setOrThrow(ch, SocketOptions.SOL_IPV6, SocketOptions.IPV6_RECVORIGDSTADDR);
                    return ch;
                })
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(EpollChannelOption.IP_RECVORIGDSTADDR, true)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                        datagram(ctx.channel().eventLoop(), p.content(), normal(p.sender()), normal(p.recipient()));
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        LOG.log(Level.FINE, key + ": datagram failed", cause);
                    }
                });
        return await(b.bind(new InetSocketAddress(v6 ? "::" : "0.0.0.0", port)), v6 ? "udp6" : "udp");
    }

    private static <C extends Channel & io.netty.channel.unix.UnixChannel> void v6Only(C ch, boolean v6) {
        if (v6) {
            setOrThrow(ch, SocketOptions.SOL_IPV6, SocketOptions.IPV6_V6ONLY);
            setOrThrow(ch, SocketOptions.SOL_IPV6, SocketOptions.IPV6_TRANSPARENT);
        }
    }

    private static <C extends Channel & io.netty.channel.unix.UnixChannel> void setOrThrow(C ch, int level, int option) {
        try {
            SocketOptions.set(ch, level, option, 1);
        } catch (IOException e) {
            ch.unsafe().closeForcibly();
            throw new io.netty.channel.ChannelException(e.getMessage(), e);
        }
    }

    private Channel await(io.netty.channel.ChannelFuture f, String what) throws IOException {
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new IOException(key + ": cannot bind " + what + " port " + port + ": " + f.cause().getMessage(), f.cause());
        }
        return f.channel();
    }

    /** An accepted TCP connection: its policy, then the protocol's pipeline. */
    private void accepted(Channel ch) {
        InetSocketAddress client = normal((InetSocketAddress) ch.remoteAddress());
        InetSocketAddress original = normal((InetSocketAddress) ch.localAddress());
        ProxyProtocol protocol = tcp.apply(key);
        ConnectionPolicy policy = protocol == null ? null : lookup(client, original, 6);
        if (policy == null || policy.dropped()) {
            stats.refused.increment();
            reset(ch);
            return;
        }
        stats.redirected.increment();
        connections.add(ch);
        try {
            protocol.init(ch, new ProxiedConnection(client, original, key.ingress(), port, policy,
                    new TransparentUpstream(client.getAddress(), original, key.ingress()), events));
        } catch (RuntimeException e) {
            stats.errors.increment();
            LOG.log(Level.WARNING, key + ": protocol setup for " + client + " -> " + original + " failed", e);
            reset(ch);
        }
    }

    /** A redirected datagram: its policy, then the protocol. The content is released after. */
    private void datagram(io.netty.channel.EventLoop loop, io.netty.buffer.ByteBuf content, InetSocketAddress client,
                          InetSocketAddress original) {
        DatagramProtocol protocol = udp.apply(key);
        ConnectionPolicy policy = protocol == null ? null : lookup(client, original, 17);
        if (policy == null || policy.dropped()) {
            stats.refused.increment();
            return;
        }
        stats.redirected.increment();
        try {
            protocol.received(new RedirectedDatagram(client, original, key.ingress(), port, policy, content, loop,
                    udpTransport, events));
        } catch (RuntimeException e) {
            stats.errors.increment();
            LOG.log(Level.WARNING, key + ": datagram from " + client + " failed", e);
        }
    }

    private ConnectionPolicy lookup(InetSocketAddress client, InetSocketAddress original, int l4) {
        try {
            return policies.lookup(client.getAddress(), original.getAddress(), l4, original.getPort());
        } catch (RuntimeException e) {
            stats.errors.increment();
            LOG.log(Level.WARNING, key + ": policy lookup for " + client + " -> " + original + " failed", e);
            return null;
        }
    }

    /** Closes with a reset: the client sees the connection refused, not a clean end. */
    private static void reset(Channel ch) {
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
        ch.close();
    }

    /** IPv4-mapped IPv6 addresses as IPv4. */
    static InetSocketAddress normal(InetSocketAddress a) {
        if (a == null) return null;
        InetAddress ip = a.getAddress();
        if (ip instanceof Inet6Address six) {
            byte[] b = six.getAddress();
            boolean mapped = true;
            for (int i = 0; i < 10; i++) mapped &= b[i] == 0;
            mapped &= b[10] == (byte) 0xff && b[11] == (byte) 0xff;
            if (mapped) {
                try {
                    return new InetSocketAddress(Inet4Address.getByAddress(new byte[] {b[12], b[13], b[14], b[15]}), a.getPort());
                } catch (java.net.UnknownHostException e) {
                    return a;
                }
            }
        }
        return a;
    }
}
