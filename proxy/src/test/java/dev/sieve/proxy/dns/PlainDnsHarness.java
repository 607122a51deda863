package dev.sieve.proxy.dns;

import dev.sieve.proxy.ConnectionPolicies;
import dev.sieve.proxy.L7EventSink;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;

/**
 * The DNS proxy on plain (non-transparent) loopback listeners, UDP and TCP on one port, every query going to one
 * fixed "original destination": what the node proxy does, minus the datapath's redirection.
 */
final class PlainDnsHarness implements AutoCloseable {

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    final DnsProxy proxy;
    final InetSocketAddress server;
    final int port;
    private final Channel udp;
    private final Channel tcp;

    PlainDnsHarness(InetSocketAddress server, ConnectionPolicies policies, FqdnLearner learner, L7EventSink events, DnsProxyConfig config)
            throws Exception {
        this.server = server;
        this.proxy = new DnsProxy(policies, learner, events, new PlainDnsUpstream(group), config);
        Channel u = null, t = null;
        int p = 0;
        for (int attempt = 0; attempt < 10 && t == null; attempt++) {
            if (u != null) u.close().sync();
            u = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(DnsWire.MAX_MESSAGE))
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                            InetSocketAddress client = packet.sender();
                            Channel ch = ctx.channel();
                            proxy.onDatagram(ByteBufUtil.getBytes(packet.content()), client, server, false, port(),
                                    answer -> ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(answer), client)));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            p = ((InetSocketAddress) u.localAddress()).getPort();
            try {
                t = tcpListener(p, policies, events);
            } catch (Exception taken) {
                t = null;
            }
        }
        if (t == null) throw new IllegalStateException("no port for both UDP and TCP");
        this.udp = u;
        this.tcp = t;
        this.port = p;
    }

    private int port() {
        return port;
    }

    private Channel tcpListener(int p, ConnectionPolicies policies, L7EventSink events) throws Exception {
        Upstream plain = (loop, handler) -> new Bootstrap().group(loop).channel(EpollSocketChannel.class).handler(handler).connect(server);
        return new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        InetSocketAddress client = ch.remoteAddress();
                        var policy = policies.lookup(client.getAddress(), server.getAddress(), 6, server.getPort());
                        proxy.tcp().init(ch, new ProxiedConnection(client, server, false, p, policy, plain, events));
                    }
                }).bind("127.0.0.1", p).sync().channel();
    }

    @Override
    public void close() throws Exception {
        udp.close().sync();
        tcp.close().sync();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
}
