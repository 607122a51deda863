package dev.sieve.proxy.transparent;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import java.util.ArrayList;
import java.util.List;

/**
 * Datagrams written during one turn of an event loop go out together at its end: a channel written to is flushed
 * once, after the loop has handled every socket that was ready, so the datagrams queued on it leave in one
 * {@code sendmmsg} (Netty's epoll datagram channel gathers what is queued) rather than one {@code sendmsg} each.
 * With many clients, a read of several queries becomes one send upstream, and several answers one send back.
 * Call on the channel's event loop.
 */
public final class BatchedFlush {

    private static final ThreadLocal<BatchedFlush> PER_LOOP = ThreadLocal.withInitial(BatchedFlush::new);

    private final List<Channel> dirty = new ArrayList<>();
    private boolean scheduled;

    private BatchedFlush() {
    }

    /** Writes {@code msg} to {@code ch} and flushes it at the end of this turn of its event loop. */
    public static ChannelFuture write(Channel ch, Object msg) {
        return write(ch, msg, ch.newPromise());
    }

    public static ChannelFuture write(Channel ch, Object msg, ChannelPromise promise) {
        if (!ch.eventLoop().inEventLoop()) return ch.writeAndFlush(msg, promise);
        ChannelFuture f = ch.write(msg, promise);
        BatchedFlush b = PER_LOOP.get();
        if (!b.dirty.contains(ch)) b.dirty.add(ch);
        if (!b.scheduled) {
            b.scheduled = true;
            ch.eventLoop().execute(b::flush); // runs after this turn's I/O; from the loop itself, no wake-up
        }
        return f;
    }

    private void flush() {
        scheduled = false;
        for (int i = 0; i < dirty.size(); i++) dirty.get(i).flush();
        dirty.clear();
    }
}
