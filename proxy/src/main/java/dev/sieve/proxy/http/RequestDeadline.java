package dev.sieve.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Slow-loris guard in front of the HTTP/1.1 decoder: from the first byte of a request, its header block must be
 * complete within the timeout, else {@code onTimeout} runs (408 and close). The proxy handler says when a header
 * block is done and when the next one is awaited.
 */
final class RequestDeadline extends ChannelInboundHandlerAdapter {

    private final long timeoutNanos;
    private final Runnable onTimeout;
    private boolean awaitingHeaders = true;
    private ScheduledFuture<?> timer;
    private ChannelHandlerContext ctx;

    RequestDeadline(long timeoutNanos, Runnable onTimeout) {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (awaitingHeaders && timer == null && msg instanceof ByteBuf b && b.isReadable()) arm();
        ctx.fireChannelRead(msg);
    }

    private void arm() {
        timer = ctx.executor().schedule(() -> {
            timer = null;
            if (awaitingHeaders) onTimeout.run();
        }, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    /** A request's headers are in. */
    void headersDone() {
        awaitingHeaders = false;
        cancel();
    }

    /** The previous request is complete: the next bytes start a new header block. */
    void awaitHeaders() {
        awaitingHeaders = true;
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }
}
