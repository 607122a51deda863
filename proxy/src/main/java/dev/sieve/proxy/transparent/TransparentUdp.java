package dev.sieve.proxy.transparent;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's transparent UDP sockets for redirected datagrams (DNS): answers sent from the address the client
 * asked (a socket bound to the original destination with IP_TRANSPARENT), and the proxy's own queries sent from
 * the client's address and marked as the proxy's. Sockets are created on the calling thread: call on the node
 * proxy's event loops.
 *
 * <p>Answer sockets are kept, one per original destination (a DNS server's address and port), so a busy server
 * costs no socket per answer: at most {@code maxReplySockets} (the least recently used goes first) and each closed
 * after {@code replyIdle} without an answer. An answer that meets a socket closing under it is sent again on a
 * fresh one.
 */
@SuppressWarnings("deprecation") // InternetProtocolFamily: Netty 4.1 and 4.2 both have it (see NodeProxy)
public final class TransparentUdp implements AutoCloseable {

    public static final int DEFAULT_MAX_REPLY_SOCKETS = 256;
    public static final Duration DEFAULT_REPLY_IDLE = Duration.ofSeconds(30);

    private final int maxReplySockets;
    private final long replyIdleNanos;
    private final ConcurrentHashMap<ReplyKey, ReplySocket> replySockets = new ConcurrentHashMap<>();
    private final LongAdder replySocketsOpened = new LongAdder();
    private volatile boolean closed;

    public TransparentUdp() {
        this(DEFAULT_MAX_REPLY_SOCKETS, DEFAULT_REPLY_IDLE);
    }

    public TransparentUdp(int maxReplySockets, Duration replyIdle) {
        if (maxReplySockets < 1) throw new IllegalArgumentException("maxReplySockets must be at least 1: " + maxReplySockets);
        this.maxReplySockets = maxReplySockets;
        this.replyIdleNanos = replyIdle.toNanos();
    }

    /** An answer socket per original destination and event loop: an answer is written on the loop it is on. */
    private record ReplyKey(InetSocketAddress from, EventLoop loop) {}

    /** One kept answer socket: bound (or binding) to an original destination. */
    private static final class ReplySocket {
        final ReplyKey from;
        final ChannelFuture bound;
        volatile long lastUsed = System.nanoTime();

        ReplySocket(ReplyKey from, ChannelFuture bound) {
            this.from = from;
            this.bound = bound;
        }
    }

    /** Sends {@code payload} from {@code from} (any address, transparently) to {@code to}, on a kept socket. */
    public Future<Void> reply(EventLoop loop, InetSocketAddress from, InetSocketAddress to, ByteBuf payload) {
        if (closed) {
            payload.release();
            return loop.newFailedFuture(new IllegalStateException("transparent UDP sockets closed"));
        }
        Promise<Void> sent = loop.newPromise();
        send(loop, from, to, payload, sent, true);
        return sent;
    }

    private void send(EventLoop loop, InetSocketAddress fromAddress, InetSocketAddress to, ByteBuf payload, Promise<Void> sent, boolean retry) {
        ReplyKey from = new ReplyKey(fromAddress, loop);
        ReplySocket s = replySockets.get(from);
        if (s == null || !s.bound.channel().isOpen()) { // opened outside the map: its listeners may remove it
            if (s != null) replySockets.remove(from, s);
            ReplySocket fresh;
            try {
                fresh = open(loop, from);
            } catch (RuntimeException e) {
                payload.release();
                sent.setFailure(e);
                return;
            }
            s = replySockets.putIfAbsent(from, fresh);
            if (s == null) {
                s = fresh;
            } else {
                fresh.bound.channel().close();
            }
        }
        ReplySocket socket = s;
        socket.lastUsed = System.nanoTime();
        if (replySockets.size() > maxReplySockets) evictLeastRecentlyUsed(socket);
        socket.bound.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                replySockets.remove(from, socket);
                payload.release();
                sent.setFailure(f.cause());
                return;
            }
            payload.retain(); // kept for a resend on a fresh socket
            BatchedFlush.write(f.channel(), new DatagramPacket(payload, to)).addListener((ChannelFutureListener) w -> {
                if (w.isSuccess()) {
                    payload.release();
                    sent.setSuccess(null);
                } else if (retry && !w.channel().isActive()) { // closed under us (idle, evicted): once more on a new one
                    replySockets.remove(from, socket);
                    send(loop, fromAddress, to, payload, sent, false);
                } else {
                    payload.release();
                    sent.setFailure(w.cause());
                }
            });
        });
    }

    private ReplySocket open(EventLoop loop, ReplyKey from) {
        boolean v6 = from.from().getAddress() instanceof Inet6Address;
        Bootstrap b = new Bootstrap().group(loop)
                .channelFactory(() -> TransparentUpstream.marked(new EpollDatagramChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4), 0, v6))
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(new DiscardInbound());
        ReplySocket s = new ReplySocket(from, b.bind(from.from()));
        replySocketsOpened.increment();
        s.bound.channel().closeFuture().addListener(f -> replySockets.remove(from, s));
        scheduleIdleCheck(s, replyIdleNanos);
        return s;
    }

    private void scheduleIdleCheck(ReplySocket s, long delayNanos) {
        Channel ch = s.bound.channel();
        ch.eventLoop().schedule(() -> {
            if (!ch.isOpen()) return;
            long idle = System.nanoTime() - s.lastUsed;
            if (idle >= replyIdleNanos) {
                replySockets.remove(s.from, s);
                ch.close();
            } else {
                scheduleIdleCheck(s, replyIdleNanos - idle);
            }
        }, Math.max(delayNanos, TimeUnit.MILLISECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
    }

    private void evictLeastRecentlyUsed(ReplySocket keep) {
        while (replySockets.size() > maxReplySockets) {
            ReplySocket oldest = null;
            for (ReplySocket r : replySockets.values()) {
                if (r != keep && (oldest == null || r.lastUsed - oldest.lastUsed < 0)) oldest = r;
            }
            if (oldest == null || !replySockets.remove(oldest.from, oldest)) return;
            oldest.bound.channel().close();
        }
    }

    /** Answer sockets open now. */
    public int replySockets() {
        return replySockets.size();
    }

    /** Answer sockets opened since start (one per answer would mean the cache does not work). */
    public long replySocketsOpened() {
        return replySocketsOpened.sum();
    }

    /** Closes the kept answer sockets; later answers fail. */
    @Override
    public void close() {
        closed = true;
        for (ReplySocket s : replySockets.values()) {
            replySockets.remove(s.from, s);
            s.bound.channel().close();
        }
    }

    /** Datagrams that reach an answer socket are not ours to read. */
    private static final class DiscardInbound extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * A UDP channel from {@code client} (port chosen by the kernel) to {@code destination}, marked as the proxy's
     * upstream for an {@code ingress} or egress redirect; the destination's answers reach {@code handler}.
     */
    public ChannelFuture upstream(EventLoop loop, InetAddress client, InetSocketAddress destination, boolean ingress,
                                  ChannelHandler handler) {
        boolean v6 = destination.getAddress() instanceof Inet6Address;
        int mark = ingress ? TransparentUpstream.MARK_PROXY_INGRESS : TransparentUpstream.MARK_PROXY_EGRESS;
        Bootstrap b = new Bootstrap().group(loop)
                .channelFactory(() -> TransparentUpstream.marked(new EpollDatagramChannel(v6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4), mark, v6))
                .option(EpollChannelOption.IP_TRANSPARENT, true)
                .handler(handler);
        return b.connect(destination, new InetSocketAddress(client, 0));
    }
}
