package dev.sieve.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Slow-loris guard in front of the HTTP/1.1 decoder: from the first byte of a request, its header block must be
 * complete within the timeout, else {@code onTimeout} runs (408 and close). The proxy handler says when a header
 * block is done and when the next one is awaited. Also closes the connection after the idle timeout without a read
 * from the client or a write to it (the proxy handler reports its writes). One periodic check per connection
 * (every quarter of the shorter timeout), not a timer per request nor a listener per write.
 */
final class RequestDeadline extends ChannelInboundHandlerAdapter {

    private final long timeoutNanos;
    private final long idleNanos;
    private final Runnable onTimeout;
    private final Runnable onIdle;
    private long lastActivity = System.nanoTime();
    private boolean awaitingHeaders = true;
    /** When the awaited header block's first byte came, or 0. */
    private long startedNanos;
    private ScheduledFuture<?> check;

    RequestDeadline(long timeoutNanos, Runnable onTimeout, long idleNanos, Runnable onIdle) {
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
        this.idleNanos = idleNanos;
        this.onIdle = onIdle;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        long period = Math.max(Math.min(timeoutNanos, idleNanos) / 4, TimeUnit.MILLISECONDS.toNanos(20));
        check = ctx.executor().scheduleAtFixedRate(this::check, period, period, TimeUnit.NANOSECONDS);
    }

    private void check() {
        long now = System.nanoTime();
        if (now - lastActivity >= idleNanos) {
            cancel();
            onIdle.run();
            return;
        }
        if (awaitingHeaders && startedNanos != 0 && System.nanoTime() - startedNanos >= timeoutNanos) {
            startedNanos = 0;
            awaitingHeaders = false;
            onTimeout.run();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lastActivity = System.nanoTime();
        if (awaitingHeaders && startedNanos == 0 && msg instanceof ByteBuf b && b.isReadable()) startedNanos = lastActivity;
        ctx.fireChannelRead(msg);
    }

    /** The proxy wrote to the client. */
    void wrote() {
        lastActivity = System.nanoTime();
    }

    /** A request's headers are in. */
    void headersDone() {
        awaitingHeaders = false;
        startedNanos = 0;
    }

    /** The previous request is complete: the next bytes start a new header block. */
    void awaitHeaders() {
        awaitingHeaders = true;
    }

    private void cancel() {
        if (check != null) {
            check.cancel(false);
            check = null;
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
