package dev.sieve.proxy.http;

import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP L7 protocol of the node's proxy: HTTP/1.1 (keep-alive, pipelining, streamed bodies) and HTTP/2 over
 * cleartext with prior knowledge (gRPC), told apart by the first bytes. Every request is judged with the
 * connection's {@link dev.sieve.policy.trace.ConnectionPolicy} (the code {@code sieve policy trace} runs) and
 * reported, with its response, as an L7 event. One instance serves every connection of a listener.
 */
public final class HttpProxyProtocol implements ProxyProtocol {

    private final HttpProxyLimits limits;
    private final HttpProxyStats stats = new HttpProxyStats();

    public HttpProxyProtocol() {
        this(HttpProxyLimits.DEFAULT);
    }

    public HttpProxyProtocol(HttpProxyLimits limits) {
        this.limits = limits;
    }

    public HttpProxyStats stats() {
        return stats;
    }

    @Override
    public void init(Channel client, ProxiedConnection connection) {
        if (connection.policy() == null || connection.policy().dropped()) { // fail closed
            client.close();
            return;
        }
        stats.connections.increment();
        stats.active.increment();
        client.closeFuture().addListener(f -> stats.active.decrement());
        RequestDeadline[] deadline = new RequestDeadline[1];
        Http1ProxyHandler[] h1 = new Http1ProxyHandler[1];
        deadline[0] = new RequestDeadline(limits.headersTimeout().toNanos(), () -> {
            if (h1[0] != null) h1[0].headersTimedOut();
            else {
                stats.timeouts.increment();
                client.close();
            }
        }, limits.idleTimeout().toNanos(), () -> {
            stats.timeouts.increment();
            client.close();
        });
        ChannelPipeline p = client.pipeline();
        p.addLast("deadline", deadline[0]);
        p.addLast("sniffer", new ProtocolSniffer(new ProtocolSniffer.Choice() {
            @Override
            public void http1(ChannelHandlerContext ctx) {
                h1[0] = installHttp1(ctx.pipeline(), connection, deadline[0]);
            }

            @Override
            public void http2(ChannelHandlerContext ctx) {
                ctx.pipeline().replace(deadline[0], "idle", new IdleStateHandler(0, 0, limits.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
                Http2Proxy.install(ctx.pipeline(), connection, limits, stats);
            }

            @Override
            public void garbage(ChannelHandlerContext ctx) {
                h1[0] = installHttp1(ctx.pipeline(), connection, deadline[0]);
                h1[0].garbage();
            }
        }));
        p.addLast("idle-close", new IdleClose(stats));
    }

    private Http1ProxyHandler installHttp1(ChannelPipeline p, ProxiedConnection connection, RequestDeadline deadline) {
        HttpDecoderConfig cfg = new HttpDecoderConfig()
                .setMaxInitialLineLength(limits.maxRequestLine())
                .setMaxHeaderSize(limits.maxHeaderBytes())
                .setMaxChunkSize(16 * 1024);
        Http1ProxyHandler h = new Http1ProxyHandler(connection, limits, stats, deadline);
        // requests are decoded (to be judged) and encoded again; responses go back as the server sent them
        p.addBefore("idle-close", "http1-codec", new HttpRequestDecoder(cfg));
        p.addBefore("idle-close", "http1-proxy", h);
        return h;
    }

    /** Closes a connection the idle handler reports (a protocol handler may have consumed the event first). */
    private static final class IdleClose extends io.netty.channel.ChannelInboundHandlerAdapter {
        private final HttpProxyStats stats;

        IdleClose(HttpProxyStats stats) {
            this.stats = stats;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof io.netty.handler.timeout.IdleStateEvent) {
                stats.timeouts.increment();
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
