package dev.sieve.proxy.dns;

import dev.sieve.proxy.transparent.DatagramProtocol;
import dev.sieve.proxy.transparent.RedirectedDatagram;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.util.concurrent.CompletableFuture;

/**
 * DNS over UDP on the node: each datagram the datapath redirected goes to the {@link DnsProxy}; an allowed query
 * leaves with the pod's own address (a transparent, marked socket the datapath judges once) and the answer goes
 * back from the address the pod asked, so the pod cannot tell a proxy was there.
 *
 * <p>Sockets are made on the datagram's event loop: only the node proxy's threads are in the datapath's network
 * namespace, and the proxy may answer from another thread (after learning).
 */
public final class TransparentDnsDatagrams implements DatagramProtocol {

    private final DnsProxy dns;

    public TransparentDnsDatagrams(DnsProxy dns) {
        this.dns = dns;
    }

    @Override
    public void received(RedirectedDatagram d) {
        byte[] query = ByteBufUtil.getBytes(d.content());
        EventLoop loop = d.loop();
        dns.onDatagram(query, d.client(), d.originalDestination(), d.ingress(), d.proxyPort(), d.policy(),
                answer -> onLoop(loop, () -> d.reply(Unpooled.wrappedBuffer(answer))),
                (client, server, q) -> exchange(d, q));
    }

    /** Sends one query from the client's address to the original destination and completes with the first answer. */
    private static CompletableFuture<byte[]> exchange(RedirectedDatagram d, byte[] query) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        onLoop(d.loop(), () -> {
            ChannelFuture connected = d.upstream(new SimpleChannelInboundHandler<DatagramPacket>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                    answer.complete(ByteBufUtil.getBytes(p.content()));
                }
            });
            connected.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) answer.completeExceptionally(f.cause());
                else f.channel().writeAndFlush(Unpooled.wrappedBuffer(query));
            });
            answer.whenComplete((v, e) -> connected.channel().close()); // also on the proxy's timeout
        });
        return answer;
    }

    private static void onLoop(EventLoop loop, Runnable r) {
        if (loop.inEventLoop()) r.run();
        else loop.execute(r);
    }
}
