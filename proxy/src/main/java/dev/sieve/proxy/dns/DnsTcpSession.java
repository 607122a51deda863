package dev.sieve.proxy.dns;

import dev.sieve.proxy.ProxiedConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One redirected DNS-over-TCP connection (RFC 7766): two-octet length-prefixed messages each way. Queries are
 * judged one by one; allowed ones go over one connection to the original destination, opened with the first,
 * and answers are matched back by message id (they may come in any order). Everything runs on the client
 * channel's event loop.
 */
final class DnsTcpSession extends ChannelInboundHandlerAdapter {

    private final DnsProxy proxy;
    private final ProxiedConnection connection;
    private final Channel client;
    private final Map<Integer, CompletableFuture<byte[]>> pending = new HashMap<>();
    private ChannelFuture upstream;

    private DnsTcpSession(DnsProxy proxy, Channel client, ProxiedConnection connection) {
        this.proxy = proxy;
        this.client = client;
        this.connection = connection;
    }

    static void install(DnsProxy proxy, Channel client, ProxiedConnection connection) {
        client.pipeline().addLast(frames(), new DnsTcpSession(proxy, client, connection));
    }

    private static LengthFieldBasedFrameDecoder frames() {
        return new LengthFieldBasedFrameDecoder(2 + DnsWire.MAX_MESSAGE, 0, 2, 0, 2);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        byte[] query;
        try {
            query = ByteBufUtil.getBytes(frame);
        } finally {
            frame.release();
        }
        DnsProxy.Exchange ex = new DnsProxy.Exchange(query, connection.client(), connection.originalDestination(), 6,
                connection.ingress(), connection.proxyPort(), connection.policy());
        proxy.handle(ex, this::reply, this::forward);
    }

    private void reply(byte[] answer) {
        ByteBuf out = Unpooled.buffer(2 + answer.length);
        out.writeShort(answer.length).writeBytes(answer);
        client.writeAndFlush(out);
    }

    private CompletableFuture<byte[]> forward(byte[] query) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        int id = ((query[0] & 0xFF) << 8) | (query[1] & 0xFF);
        if (!client.eventLoop().inEventLoop()) throw new IllegalStateException("not on the client's event loop");
        if (pending.putIfAbsent(id, f) != null) return CompletableFuture.failedFuture(new IllegalStateException("message id " + id + " already in flight"));
        f.whenComplete((v, e) -> client.eventLoop().execute(() -> pending.remove(id, f)));
        if (upstream == null) {
            upstream = connection.upstream().connect(client.eventLoop(), new ChannelInitializer<>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(frames(), new Answers());
                }
            });
            upstream.addListener(c -> {
                if (!c.isSuccess()) failAll(c.cause());
            });
        }
        ByteBuf out = Unpooled.buffer(2 + query.length);
        out.writeShort(query.length).writeBytes(query);
        upstream.addListener(c -> {
            if (c.isSuccess()) upstream.channel().writeAndFlush(out);
            else out.release();
        });
        return f;
    }

    private void failAll(Throwable cause) {
        for (CompletableFuture<byte[]> f : Map.copyOf(pending).values()) f.completeExceptionally(cause);
    }

    /** The upstream side: answers back to the pending query of the same id. */
    private final class Answers extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                if (frame.readableBytes() < 2) return;
                int id = frame.getUnsignedShort(frame.readerIndex());
                CompletableFuture<byte[]> f = pending.get(id);
                if (f != null) f.complete(ByteBufUtil.getBytes(frame));
            } finally {
                frame.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            failAll(new IllegalStateException("server closed the connection"));
            upstream = null;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (upstream != null) upstream.channel().close();
        failAll(new IllegalStateException("client closed the connection"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // e.g. a length prefix of a message larger than allowed: nothing sensible can follow it
    }
}
