package dev.sieve.proxy.http;

import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.trace.ConnectionPolicy.L7Verdict;
import dev.sieve.proxy.ProxiedConnection;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Locale;
import java.util.List;

/**
 * HTTP/2 over cleartext through the proxy, one client connection: each client stream is judged on its headers
 * ({@code :method}, {@code :path}, {@code :authority} as the host, the headers) and, when allowed, relayed frame by
 * frame on a stream of the one upstream HTTP/2 connection; when denied it is answered by the proxy, a gRPC call
 * trailers-only with {@code grpc-status 7} (PERMISSION_DENIED, as Envoy turns a local 403 for gRPC), anything else
 * {@code 403 Access denied}. Flow control carries back pressure: a stream stops reading while its peer stream
 * cannot take more.
 */
final class Http2Proxy {

    static final String PROTOCOL = "HTTP/2";
    private static final int GRPC_PERMISSION_DENIED = 7;
    private static final int GRPC_UNAVAILABLE = 14;

    private final Channel client;
    private final ProxiedConnection conn;
    private final HttpEvents events;
    private final HttpProxyStats stats;
    private final Judge judge;
    private Promise<Channel> upstream;
    private final Flusher clientFlusher;
    private Flusher upstreamFlusher;

    private Http2Proxy(Channel client, ProxiedConnection conn, HttpProxyLimits limits, HttpProxyStats stats) {
        this.client = client;
        this.conn = conn;
        this.events = new HttpEvents(conn);
        this.judge = new Judge(conn.policy());
        this.clientFlusher = new Flusher(client);
        this.stats = stats;
    }

    static void install(ChannelPipeline p, ProxiedConnection conn, HttpProxyLimits limits, HttpProxyStats stats) {
        Http2Proxy proxy = new Http2Proxy(p.channel(), conn, limits, stats);
        p.addBefore("idle-close", "h2-codec", Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(limits.maxConcurrentStreams())
                        .maxHeaderListSize(limits.maxHeaderBytes()))
                .build());
        p.addBefore("idle-close", "h2-mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.pipeline().addLast(proxy.new ClientStream());
            }
        }));
        p.channel().closeFuture().addListener(f -> proxy.closeUpstream());
    }

    private void closeUpstream() {
        if (upstream != null && upstream.isSuccess()) upstream.getNow().close();
    }

    /** The upstream HTTP/2 connection, opened for the first allowed stream and again after it closed. */
    private Promise<Channel> upstream() {
        if (upstream != null) return upstream;
        Promise<Channel> ready = client.eventLoop().newPromise();
        upstream = ready;
        conn.upstream().connect(client.eventLoop(), new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                        .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)).build());
                ch.pipeline().addLast(new Http2MultiplexHandler(REFUSE_PUSH));
                // streams open once the codec has sent its preface (the connect future completes before that)
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.fireChannelActive();
                        upstreamFlusher = new Flusher(ctx.channel());
                        ready.trySuccess(ctx.channel());
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close(); // e.g. a server that does not speak HTTP/2: its streams get 503
                    }
                });
            }
        }).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                stats.upstreamFailures.increment();
                if (upstream == ready) upstream = null;
                ready.tryFailure(f.cause());
                return;
            }
            if (!client.isActive()) f.channel().close();
            f.channel().closeFuture().addListener(c -> {
                // its streams end on their own (503 before response headers, a reset after); the next allowed
                // stream opens a new connection
                if (upstream == ready) upstream = null;
                ready.tryFailure(new java.nio.channels.ClosedChannelException());
            });
        });
        return ready;
    }

    /** Server push is off; a stream the upstream opens anyway is closed. */
    private static final ChannelHandler REFUSE_PUSH = new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
            ch.close();
        }
    };

    private static String text(CharSequence s) {
        return s == null ? null : s.toString();
    }

    /** One client stream: judged on its headers, then relayed to its upstream stream or answered here. */
    private final class ClientStream extends ChannelInboundHandlerAdapter {

        private Exchange x;
        private boolean grpc;
        private boolean answered;
        private Http2StreamChannel up;
        private Relay toUp;
        private final ArrayDeque<Object> waiting = new ArrayDeque<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (x == null && msg instanceof Http2HeadersFrame hf) {
                request(ctx, hf);
                return;
            }
            if (answered || x == null) {
                ReferenceCountUtil.release(msg);
            } else if (up == null) {
                waiting.add(msg);
            } else {
                toUp.write(msg);
            }
        }

        private void request(ChannelHandlerContext ctx, Http2HeadersFrame hf) {
            Http2Headers h = hf.headers();
            String method = text(h.method());
            String path = text(h.path());
            String host = text(h.authority());
            if (host == null) host = text(h.get(HttpHeaderNames.HOST));
            CharSequence ct = h.get(HttpHeaderNames.CONTENT_TYPE);
            grpc = ct != null && ct.toString().toLowerCase(Locale.ROOT).startsWith("application/grpc");
            if (method == null || path == null) {
                x = new Exchange(method == null ? "" : method, events.url(host, path == null ? "/" : path), PROTOCOL, HttpEvents.headers(h), null);
                events.request(x, Verdict.ERROR);
                answer(ctx, 400, Verdict.ERROR);
                return;
            }
            L7Verdict v = judge.judge(method, path, host, name -> {
                List<CharSequence> all = h.getAll(name);
                if (all.isEmpty()) return null;
                if (all.size() == 1) return all.getFirst().toString();
                return String.join(",", all);
            });
            x = new Exchange(method, events.url(host, path), PROTOCOL, HttpEvents.headers(h), v);
            events.request(x, HttpEvents.verdictOf(v));
            if (!v.allowed()) {
                answer(ctx, 403, Verdict.FORWARDED);
                return;
            }
            ctx.channel().config().setAutoRead(false);
            DefaultHttp2HeadersFrame first = new DefaultHttp2HeadersFrame(h, hf.isEndStream());
            upstream().addListener(f -> {
                if (!ctx.channel().isActive()) return;
                if (!f.isSuccess()) {
                    answer(ctx, 503, Verdict.ERROR);
                    return;
                }
                new Http2StreamChannelBootstrap((Channel) f.getNow()).handler(new UpstreamStream(this, ctx, x)).open()
                        .addListener(sf -> {
                            if (!ctx.channel().isActive()) {
                                if (sf.isSuccess()) ((Channel) sf.getNow()).close();
                                return;
                            }
                            if (!sf.isSuccess()) {
                                answer(ctx, 503, Verdict.ERROR);
                                return;
                            }
                            up = (Http2StreamChannel) sf.getNow();
                            toUp = new Relay(up, upstreamFlusher);
                            up.write(first).addListener(w -> { // a stream that cannot start never goes inactive
                                if (!w.isSuccess() && !answered && ctx.channel().isActive()) answer(ctx, 503, Verdict.ERROR);
                            });
                            for (Object m; (m = waiting.poll()) != null; ) toUp.write(m);
                            up.flush();
                            ctx.channel().config().setAutoRead(up.isWritable());
                        });
            });
        }

        /** The proxy's own answer: trailers-only for gRPC, a short text body otherwise. */
        private void answer(ChannelHandlerContext ctx, int status, Verdict verdict) {
            answered = true;
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
            ctx.channel().config().setAutoRead(true); // discard what the client still sends
            if (grpc) {
                Http2Headers r = new DefaultHttp2Headers().status("200")
                        .set(HttpHeaderNames.CONTENT_TYPE, "application/grpc")
                        .setInt("grpc-status", status == 403 ? GRPC_PERMISSION_DENIED : GRPC_UNAVAILABLE)
                        .set("grpc-message", LocalReplies.body(status));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(r, true));
            } else {
                String body = LocalReplies.body(status);
                Http2Headers r = new DefaultHttp2Headers().status(Integer.toString(status))
                        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length())
                        .set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
                ctx.write(new DefaultHttp2HeadersFrame(r, false));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(ByteBufUtil.writeAscii(ctx.alloc(), body), true));
            }
            events.response(x, status, verdict);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (up != null) up.config().setAutoRead(ctx.channel().isWritable());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            waiting.forEach(ReferenceCountUtil::release);
            waiting.clear();
            if (up != null && up.isActive()) up.close(); // resets the upstream stream if it is still open
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Flushes one HTTP/2 connection once per event-loop turn, whatever its streams wrote: a stream channel's
     * read-complete does not come after every read, and a flush per frame or per stream costs a socket write each.
     */
    private static final class Flusher implements Runnable {
        private final Channel connection;
        private boolean scheduled;

        Flusher(Channel connection) {
            this.connection = connection;
        }

        void schedule() {
            if (!scheduled) {
                scheduled = true;
                connection.eventLoop().execute(this);
            }
        }

        @Override
        public void run() {
            scheduled = false;
            connection.flush();
        }
    }

    /** Writes frames to one stream; its connection's {@link Flusher} flushes them. */
    private static final class Relay {
        private final Channel to;
        private final Flusher flusher;

        Relay(Channel to, Flusher flusher) {
            this.to = to;
            this.flusher = flusher;
        }

        /** Frames keep their payload but belong to the stream they are written on. */
        void write(Object msg) {
            if (msg instanceof Http2DataFrame d) {
                to.write(new DefaultHttp2DataFrame(d.content(), d.isEndStream(), d.padding()), to.voidPromise());
            } else if (msg instanceof Http2HeadersFrame h) {
                to.write(new DefaultHttp2HeadersFrame(h.headers(), h.isEndStream()), to.voidPromise());
            } else if (msg instanceof Http2ResetFrame r) {
                to.write(new DefaultHttp2ResetFrame(r.errorCode()), to.voidPromise());
            } else {
                ReferenceCountUtil.release(msg);
                return;
            }
            flusher.schedule();
        }
    }

    /** One upstream stream: its response relayed to the client stream, reported when its headers come. */
    private final class UpstreamStream extends ChannelInboundHandlerAdapter {

        private final ClientStream client;
        private final ChannelHandlerContext clientCtx;
        private final Channel clientStream;
        private final Relay toClient;
        private final Exchange x;
        private boolean responded;
        private boolean ended;

        UpstreamStream(ClientStream client, ChannelHandlerContext clientCtx, Exchange x) {
            this.client = client;
            this.clientCtx = clientCtx;
            this.clientStream = clientCtx.channel();
            this.toClient = new Relay(clientStream, clientFlusher);
            this.x = x;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2HeadersFrame h && !responded) {
                CharSequence s = h.headers().status();
                int code = s == null ? 0 : Integer.parseInt(s.toString());
                if (code >= 200 || code == 0) {
                    responded = true;
                    events.response(x, code, Verdict.FORWARDED);
                }
            }
            if (msg instanceof Http2HeadersFrame h && h.isEndStream() || msg instanceof Http2DataFrame d && d.isEndStream()) ended = true;
            toClient.write(msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            clientStream.config().setAutoRead(ctx.channel().isWritable());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ended || !clientStream.isActive()) return;
            if (!responded) client.answer(clientCtx, 503, Verdict.ERROR); // as Envoy: 503 before the response began
            else clientStream.close(); // the upstream broke off mid-response: reset the client's stream
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
