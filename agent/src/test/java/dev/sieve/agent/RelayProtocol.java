package dev.sieve.agent;

import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A test protocol: relays bytes both ways between the client and the original destination, records every
 * connection it got, and reports one L7 event per connection.
 */
final class RelayProtocol implements ProxyProtocol {

    final LinkedBlockingQueue<ProxiedConnection> seen = new LinkedBlockingQueue<>();

    @Override
    public void init(Channel client, ProxiedConnection c) {
        seen.add(c);
        client.config().setAutoRead(false);
        c.upstream().connect(client.eventLoop(), new Pipe(client)).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                client.close();
                return;
            }
            Channel server = f.channel();
            client.pipeline().addLast(new Pipe(server));
            client.config().setAutoRead(true);
            c.events().accept(new L7Event(System.currentTimeMillis() * 1_000_000L, c.client(), c.originalDestination(), 6,
                    c.ingress(), Verdict.FORWARDED, List.of(), List.of(),
                    Layer7.newBuilder().setType(L7FlowType.REQUEST).setHttp(HTTP.newBuilder().setMethod("RELAY")).build(),
                    "relay " + c.originalDestination(), c.proxyPort()));
        });
    }

    /** Writes what it reads to {@code to}; closes {@code to} when its own channel closes. */
    static final class Pipe extends ChannelInboundHandlerAdapter {
        private final Channel to;

        Pipe(Channel to) {
            this.to = to;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            to.writeAndFlush(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            to.close();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    static InetSocketAddress last(LinkedBlockingQueue<ProxiedConnection> q) throws InterruptedException {
        ProxiedConnection c = q.poll(5, java.util.concurrent.TimeUnit.SECONDS);
        return c == null ? null : c.originalDestination();
    }
}
