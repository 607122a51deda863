package dev.sieve.proxy.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * Sends each query from its own connected UDP socket (a fresh random source port per query, and only the server's
 * datagrams are accepted) from the proxy's own address. For tests and benchmarks; the node uses a transparent one.
 */
public final class PlainDnsUpstream implements DnsUpstream {

    private final Bootstrap bootstrap;

    public PlainDnsUpstream(EventLoopGroup group) {
        this.bootstrap = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(DnsWire.MAX_MESSAGE))
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter());
    }

    @Override
    public CompletableFuture<byte[]> exchange(InetSocketAddress client, InetSocketAddress server, byte[] query) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Bootstrap b = bootstrap.clone().handler(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                result.complete(ByteBufUtil.getBytes(p.content()));
                ctx.close();
            }
        });
        b.connect(server).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
            result.whenComplete((v, e) -> ch.close()); // also on the proxy's timeout
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(query), server)).addListener(w -> {
                if (!w.isSuccess()) result.completeExceptionally(w.cause());
            });
        });
        return result;
    }
}
