package dev.sieve.proxy.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends queries from the proxy's own address (tests, benchmarks; the node uses a transparent upstream) over a
 * few UDP sockets per server, connected to it so that only its datagrams are accepted. Each query goes out
 * under a fresh random message id, unique among those in flight on its socket, and the answer gets the
 * client's id back: the sockets are shared, the ids are not guessable.
 */
public final class PlainDnsUpstream implements DnsUpstream {

    private static final int SOCKETS_PER_SERVER = 4;

    private final Bootstrap bootstrap;
    private final Map<InetSocketAddress, List<Socket>> sockets = new ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();

    public PlainDnsUpstream(EventLoopGroup group) {
        this.bootstrap = new Bootstrap().group(group)
                .channel(Epoll.isAvailable() ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(DnsWire.MAX_MESSAGE));
    }

    /** One connected socket and the queries in flight on it, by the id they went out with. */
    private final class Socket extends SimpleChannelInboundHandler<DatagramPacket> {
        final Map<Integer, Pending> inFlight = new ConcurrentHashMap<>();
        final ChannelFuture channel;

        Socket(InetSocketAddress server) {
            this.channel = bootstrap.clone().handler(this).connect(server);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
            ByteBuf c = p.content();
            if (c.readableBytes() < DnsWire.HEADER) return;
            Pending q = inFlight.remove(c.getUnsignedShort(c.readerIndex()));
            if (q == null) return; // late, or not ours
            byte[] answer = new byte[c.readableBytes()];
            c.getBytes(c.readerIndex(), answer);
            answer[0] = (byte) (q.clientId >> 8);
            answer[1] = (byte) q.clientId;
            q.result.complete(answer);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            for (Pending q : inFlight.values()) q.result.completeExceptionally(new IllegalStateException("upstream socket closed"));
        }
    }

    private record Pending(int clientId, CompletableFuture<byte[]> result) {}

    @Override
    public CompletableFuture<byte[]> exchange(InetSocketAddress client, InetSocketAddress server, byte[] query) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        List<Socket> pool = sockets.computeIfAbsent(server, s -> {
            List<Socket> l = new ArrayList<>(SOCKETS_PER_SERVER);
            for (int i = 0; i < SOCKETS_PER_SERVER; i++) l.add(new Socket(s));
            return List.copyOf(l);
        });
        Socket socket = pool.get(Math.floorMod(next.getAndIncrement(), pool.size()));
        int clientId = ((query[0] & 0xFF) << 8) | (query[1] & 0xFF);
        int id = -1;
        for (int attempt = 0; attempt < 16 && id < 0; attempt++) {
            int candidate = ThreadLocalRandom.current().nextInt(65536);
            if (socket.inFlight.putIfAbsent(candidate, new Pending(clientId, result)) == null) id = candidate;
        }
        if (id < 0) return CompletableFuture.failedFuture(new IllegalStateException("no free message id"));
        int sent = id;
        result.whenComplete((v, e) -> socket.inFlight.remove(sent)); // also on the proxy's timeout
        byte[] out = query.clone();
        out[0] = (byte) (id >> 8);
        out[1] = (byte) id;
        socket.channel.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
                return;
            }
            Channel ch = socket.channel.channel();
            ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(out), server)).addListener(w -> {
                if (!w.isSuccess()) result.completeExceptionally(w.cause());
            });
        });
        return result;
    }
}
