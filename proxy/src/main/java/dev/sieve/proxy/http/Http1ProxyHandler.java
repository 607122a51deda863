package dev.sieve.proxy.http;

import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.trace.ConnectionPolicy.L7Verdict;
import dev.sieve.proxy.ProxiedConnection;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 through the proxy, one client connection: each request judged on its headers, allowed ones streamed
 * to the one upstream connection (opened on the first allowed request; again after the server closed an idle one),
 * denied ones answered {@code 403 Access denied} in their place in the pipeline with their body discarded. Responses
 * go back in request order; bodies are never aggregated, and each side stops reading while the other cannot take
 * more.
 */
final class Http1ProxyHandler extends ChannelInboundHandlerAdapter {

    static final String PROTOCOL = "HTTP/1.1";

    private final ProxiedConnection conn;
    private final HttpEvents events;
    private final Judge judge;
    private final HttpProxyLimits limits;
    private final HttpProxyStats stats;
    private final RequestDeadline deadline;

    /** Exchanges in request order whose responses are not yet complete. */
    private final ArrayDeque<Exchange> pending = new ArrayDeque<>();
    /** Messages for the upstream while it connects. */
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Channel upstream;
    private boolean connecting;
    /** The request whose body is being read; null between requests. */
    private Exchange reading;
    /** No more requests are read (a malformed one, Connection: close, an error). */
    private boolean stopped;
    /** The exchange whose response is being relayed. */
    private Exchange responding;
    /** After an allowed upgrade (WebSocket, {@code 101}): bytes are relayed as they are, both ways. */
    private boolean tunnel;

    Http1ProxyHandler(ProxiedConnection conn, HttpProxyLimits limits, HttpProxyStats stats, RequestDeadline deadline) {
        this.conn = conn;
        this.events = new HttpEvents(conn);
        this.judge = new Judge(conn.policy());
        this.limits = limits;
        this.stats = stats;
        this.deadline = deadline;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    // ---- client side ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tunnel) {
            if (msg instanceof io.netty.buffer.ByteBuf && upstream != null) upstream.write(msg, upstream.voidPromise());
            else ReferenceCountUtil.release(msg);
            return;
        }
        if (stopped) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof io.netty.handler.codec.http.HttpRequest req) {
            request(req);
            if (msg instanceof HttpContent c) content(c); // a full request (the decoder's bad-request stand-in)
        } else if (msg instanceof HttpContent c) {
            content(c);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    private void request(io.netty.handler.codec.http.HttpRequest req) {
        deadline.headersDone();
        DecoderResult dr = req.decoderResult();
        if (dr.isFailure()) {
            malformed(req, dr.cause());
            return;
        }
        HttpHeaders h = req.headers();
        String host = h.get(HttpHeaderNames.HOST);
        String path = req.uri();
        String method = req.method().name();
        L7Verdict v = judge.judge(method, path, host, name -> {
            List<String> all = h.getAll(name);
            return all.isEmpty() ? null : all.size() == 1 ? all.getFirst() : String.join(",", all);
        });
        Exchange x = new Exchange(method, events.url(host, path), PROTOCOL, HttpEvents.headers(h), v);
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        events.request(x, HttpEvents.verdictOf(v));
        reading = x;
        pending.add(x);
        if (v.allowed()) {
            stripH2cUpgrade(h);
            if (!keepAlive) x.closeAfter = true;
            toUpstream(req);
        } else {
            x.localStatus = 403;
            x.closeAfter = !keepAlive;
            if (HttpUtil.is100ContinueExpected(req)) {
                // the client waits for 100-continue before its body, and may or may not send it after a 403:
                // answer now, and only closing leaves no doubt about what follows
                x.closeAfter = true;
                reading = null;
                stopped = true;
                answerLocal();
                return;
            }
        }
        updateReading();
    }

    /** The proxy keeps HTTP/1.1 to the upstream: a server answering {@code Upgrade: h2c} would switch under it. */
    private static void stripH2cUpgrade(HttpHeaders h) {
        String up = h.get(HttpHeaderNames.UPGRADE);
        if (up != null && up.toLowerCase(Locale.ROOT).contains("h2c")) {
            h.remove(HttpHeaderNames.UPGRADE);
            h.remove("HTTP2-Settings");
            String c = h.get(HttpHeaderNames.CONNECTION);
            if (c != null) h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    private void content(HttpContent c) {
        Exchange x = reading;
        boolean last = c instanceof LastHttpContent;
        if (x != null && x.forwarded()) toUpstream(c);
        else c.release();
        if (!last) return;
        reading = null;
        if (x != null && x.closeAfter) stopped = true;
        deadline.awaitHeaders();
        if (x != null && !x.forwarded()) answerLocal();
    }

    private void malformed(io.netty.handler.codec.http.HttpRequest req, Throwable cause) {
        int status = cause instanceof TooLongHttpLineException ? 414 : cause instanceof TooLongHttpHeaderException ? 431 : 400;
        String path = req.uri() == null ? "" : req.uri();
        Exchange x = new Exchange(req.method().name(), events.url(null, status == 400 ? "/" : path), PROTOCOL, List.of(), null);
        events.request(x, Verdict.ERROR);
        x.localStatus = status;
        x.closeAfter = true;
        pending.add(x);
        reading = null;
        stopped = true;
        answerLocal();
    }

    /** Garbage before any request: 400 and close. */
    void garbage() {
        Exchange x = new Exchange("", events.url(null, "/"), PROTOCOL, List.of(), null);
        events.request(x, Verdict.ERROR);
        x.localStatus = 400;
        x.closeAfter = true;
        stopped = true;
        pending.add(x);
        answerLocal();
    }

    /** The header deadline passed (slow-loris): 408 in turn and close. */
    void headersTimedOut() {
        if (tunnel || stopped || !ctx.channel().isActive()) return;
        stats.timeouts.increment();
        stopped = true;
        if (pending.isEmpty()) {
            ctx.writeAndFlush(LocalReplies.http1(ctx.alloc(), 408, true)).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    /** Writes the proxy's own answers that are now at the head of the line. */
    private void answerLocal() {
        boolean wrote = false;
        while (!pending.isEmpty() && !pending.peek().forwarded()) {
            Exchange x = pending.peek();
            if (x == reading) break; // its body is still being discarded; answered once it ends
            pending.poll();
            int status = x.localStatus;
            boolean close = x.closeAfter || stopped && pending.isEmpty() && reading == null;
            events.response(x, status, x.verdict == null ? Verdict.ERROR : Verdict.FORWARDED);
            if (close) {
                ctx.writeAndFlush(LocalReplies.http1(ctx.alloc(), status, true)).addListener(ChannelFutureListener.CLOSE);
                stopped = true;
                discardPending();
                return;
            }
            ctx.write(LocalReplies.http1(ctx.alloc(), status, false), ctx.voidPromise());
            wrote = true;
        }
        if (wrote) ctx.flush(); // one socket write for the answers that were due together
        updateReading();
    }

    private void discardPending() {
        pending.clear();
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
    }

    private void updateReading() {
        boolean read = tunnel ? upstream != null && upstream.isWritable()
                : !stopped && !connecting && pending.size() < limits.maxPipelined()
                && (upstream == null || upstream.isWritable());
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null) upstream.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upstream != null) upstream.config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stopped = true;
        if (upstream != null) upstream.close();
        discardPending();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    // ---- upstream side ----

    private void toUpstream(Object msg) {
        if (upstream != null && upstream.isActive()) {
            upstream.write(msg, upstream.voidPromise());
            return;
        }
        queued.add(msg);
        if (connecting) return;
        connecting = true;
        updateReading();
        ChannelFuture f = conn.upstream().connect(ctx.channel().eventLoop(), new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new HttpRequestEncoder());
                ch.pipeline().addLast(new UpstreamHandler(ch.alloc()));
            }
        });
        f.addListener((ChannelFutureListener) done -> {
            connecting = false;
            if (!ctx.channel().isActive()) {
                done.channel().close();
                return;
            }
            if (!done.isSuccess()) {
                stats.upstreamFailures.increment();
                failForwarded();
                return;
            }
            upstream = done.channel();
            for (Object m; (m = queued.poll()) != null; ) upstream.write(m, upstream.voidPromise());
            upstream.flush();
            updateReading();
        });
    }

    /** The upstream is gone with requests outstanding: each answered 503 in turn, then the connection closed. */
    private void failForwarded() {
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        Exchange head = pending.peek();
        if (head != null && head.forwarded() && head == responding) {
            ctx.close(); // its response had begun: nothing sensible can follow
            return;
        }
        for (Exchange x : pending) {
            if (x.forwarded()) {
                x.localStatus = 503;
                x.closeAfter = true;
            }
        }
        stopped = true;
        if (reading != null && reading.forwarded()) reading = null;
        if (pending.isEmpty()) ctx.close();
        else answerLocal();
    }

    /**
     * The upstream connection's responses, framed by {@link ResponseFramer} and relayed as the server sent them (slices
     * of its reads): only the status and the framing headers are read, for the flow and for where a response ends.
     */
    private final class UpstreamHandler extends ChannelInboundHandlerAdapter implements ResponseFramer.Sink {

        /** The status line and headers of a response: the request decoder's limits. */
        private static final int MAX_HEAD = 4096 + 64 * 1024;

        private final ResponseFramer framer;
        private ChannelHandlerContext uctx;

        UpstreamHandler(io.netty.buffer.ByteBufAllocator alloc) {
            this.framer = new ResponseFramer(this, alloc, MAX_HEAD);
        }

        @Override
        public void handlerAdded(ChannelHandlerContext uctx) {
            this.uctx = uctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext uctx, Object msg) {
            if (msg instanceof io.netty.buffer.ByteBuf b) framer.feed(b);
            else ReferenceCountUtil.release(msg);
        }

        @Override
        public boolean noBody(int status) {
            Exchange x = pending.peek();
            return x != null && (x.method.equals("HEAD") || status / 100 == 2 && x.method.equals("CONNECT"));
        }

        @Override
        public void head(int code, boolean keepAlive, boolean untilClose) {
            Exchange x = pending.peek();
            if (x == null || !x.forwarded()) { // a response nobody asked for
                framer.stop();
                uctx.close();
                return;
            }
            responding = x;
            x.interim = code >= 100 && code < 200 && code != 101;
            if (x.interim) return;
            events.response(x, code, Verdict.FORWARDED);
            // 101 (WebSocket), or a CONNECT answered 2xx: once its head is through, the connection is a tunnel; a
            // body delimited by the server's close must end with the client's connection too
            if (code == 101 || code / 100 == 2 && x.method.equals("CONNECT")) x.upgraded = true;
            else if (!keepAlive || untilClose) x.closeAfter = true;
        }

        @Override
        public void bytes(io.netty.buffer.ByteBuf bytes) {
            if (responding == null && !tunnel) {
                bytes.release();
                return;
            }
            ctx.write(bytes, ctx.voidPromise());
            deadline.wrote();
        }

        @Override
        public void end() {
            Exchange x = responding;
            if (x == null) return;
            if (x.interim) {
                x.interim = false;
                return;
            }
            responding = null;
            pending.poll();
            if (x.upgraded) {
                becomeTunnel();
                return;
            }
            if (x.closeAfter) {
                framer.stop();
                stopped = true;
                ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                discardPending();
                return;
            }
            answerLocal();
        }

        @Override
        public void malformed(String why) {
            uctx.close();
        }

        /**
         * The server switched protocols for an allowed request (Envoy's {@code upgrade_configs} for websocket do
         * the same): the request decoder leaves the client's pipeline and bytes go through unchanged both ways, with
         * the same back pressure and idle timeout. A request pipelined behind the upgrade has no place in it: then
         * both close.
         */
        private void becomeTunnel() {
            ctx.flush();
            if (!pending.isEmpty() || reading != null || stopped) {
                framer.stop();
                stopped = true;
                ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
                discardPending();
                return;
            }
            tunnel = true;
            framer.tunnel();
            deadline.headersDone();
            stats.upgrades.increment();
            // what the decoder still holds is passed on as plain bytes when it is removed
            uctx.pipeline().remove(HttpRequestEncoder.class);
            ctx.pipeline().remove(HttpRequestDecoder.class);
            updateReading();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext uctx) {
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext uctx) {
            updateReading();
        }

        @Override
        public void channelInactive(ChannelHandlerContext uctx) {
            framer.inputClosed(); // ends a response delimited by the close
            if (upstream == uctx.channel()) upstream = null;
            boolean outstanding = pending.stream().anyMatch(Exchange::forwarded);
            if (outstanding && ctx.channel().isActive()) {
                stats.upstreamFailures.increment();
                failForwarded();
            }
            responding = null;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext uctx, Throwable cause) {
            uctx.close();
        }
    }
}
