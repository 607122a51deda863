package dev.sieve.proxy.dns;

import dev.sieve.proxy.transparent.DatagramProtocol;
import dev.sieve.proxy.transparent.RedirectedDatagram;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * DNS over UDP on the node: each datagram the datapath redirected goes to the {@link DnsProxy}; an allowed query
 * leaves with the pod's own address (a transparent, marked socket the datapath judges once) and the answer goes
 * back from the address the pod asked, so the pod cannot tell a proxy was there.
 *
 * <p>Queries share an upstream socket per (pod address, server, direction), as a pod's own resolver would: the
 * answer goes to the query waiting for its DNS ID (the proxy then checks the answer's question too). A query whose ID
 * is already waiting on that socket goes on a socket of its own. At most {@code maxUpstreams} are kept (the least
 * recently used goes), each closed after {@code idle} without a query.
 *
 * <p>Sockets are made on the datagram's event loop: only the node proxy's threads are in the datapath's network
 * namespace, and the proxy may answer from another thread (after learning).
 */
public final class TransparentDnsDatagrams implements DatagramProtocol, AutoCloseable {

    public static final int DEFAULT_MAX_UPSTREAMS = 1024;
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(30);

    private final DnsProxy dns;
    private final int maxUpstreams;
    private final long idleNanos;
    private final ConcurrentHashMap<UpstreamKey, SharedUpstream> upstreams = new ConcurrentHashMap<>();
    private final LongAdder upstreamsOpened = new LongAdder();

    public TransparentDnsDatagrams(DnsProxy dns) {
        this(dns, DEFAULT_MAX_UPSTREAMS, DEFAULT_IDLE);
    }

    public TransparentDnsDatagrams(DnsProxy dns, int maxUpstreams, Duration idle) {
        this.dns = dns;
        this.maxUpstreams = maxUpstreams;
        this.idleNanos = idle.toNanos();
    }

    @Override
    public void received(RedirectedDatagram d) {
        byte[] query = ByteBufUtil.getBytes(d.content());
        EventLoop loop = d.loop();
        dns.onDatagram(query, d.client(), d.originalDestination(), d.ingress(), d.proxyPort(), d.policy(),
                answer -> onAnyLoop(loop, here -> d.transport().reply(here, d.originalDestination(), d.client(), Unpooled.wrappedBuffer(answer))),
                (client, server, q) -> exchange(d, q));
    }

    private record UpstreamKey(InetAddress client, InetSocketAddress server, boolean ingress) {}

    /** One kept upstream socket and the queries waiting on it, by DNS ID. */
    private final class SharedUpstream {
        final UpstreamKey key;
        final ConcurrentHashMap<Integer, CompletableFuture<byte[]>> waiting = new ConcurrentHashMap<>();
        ChannelFuture connected;
        volatile long lastUsed = System.nanoTime();

        SharedUpstream(UpstreamKey key) {
            this.key = key;
        }

        void answered(byte[] answer) {
            if (answer.length < 2) return;
            CompletableFuture<byte[]> f = waiting.remove((answer[0] & 0xFF) << 8 | (answer[1] & 0xFF));
            if (f != null) f.complete(answer);
        }

        void closed() {
            upstreams.remove(key, this);
            for (CompletableFuture<byte[]> f : waiting.values()) f.completeExceptionally(new java.nio.channels.ClosedChannelException());
            waiting.clear();
        }
    }

    /** Sends one query from the client's address to the original destination and completes with its answer. */
    private CompletableFuture<byte[]> exchange(RedirectedDatagram d, byte[] query) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        if (query.length < 2) {
            answer.completeExceptionally(new IllegalArgumentException("no DNS header"));
            return answer;
        }
        int id = (query[0] & 0xFF) << 8 | (query[1] & 0xFF);
        onLoop(d.loop(), () -> {
            UpstreamKey key = new UpstreamKey(d.client().getAddress(), d.originalDestination(), d.ingress());
            SharedUpstream u = upstreams.get(key);
            if (u == null || !u.connected.channel().isOpen()) { // opened outside the map: its listeners may remove it
                if (u != null) upstreams.remove(key, u);
                SharedUpstream fresh = open(d, key);
                u = upstreams.putIfAbsent(key, fresh);
                if (u == null) {
                    u = fresh;
                } else {
                    fresh.connected.channel().close();
                }
            }
            u.lastUsed = System.nanoTime();
            if (upstreams.size() > maxUpstreams) evictLeastRecentlyUsed(u);
            if (u.waiting.putIfAbsent(id, answer) != null) { // that ID is in flight on the shared socket: one of its own
                ownSocket(d, query, answer);
                return;
            }
            SharedUpstream shared = u;
            answer.whenComplete((v, e) -> shared.waiting.remove(id, answer)); // answered, timed out, or closed
            u.connected.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    answer.completeExceptionally(f.cause());
                    return;
                }
                f.channel().writeAndFlush(Unpooled.wrappedBuffer(query)).addListener((ChannelFutureListener) w -> {
                    if (!w.isSuccess()) answer.completeExceptionally(w.cause());
                });
            });
        });
        return answer;
    }

    private SharedUpstream open(RedirectedDatagram d, UpstreamKey key) {
        SharedUpstream u = new SharedUpstream(key);
        // made here (a thread in the datapath's namespace), served by another of the proxy's loops when there is one:
        // the answers' work (learning, flows, the reply) then runs beside the listener's, on another core
        u.connected = d.transport().upstream(otherLoop(d.loop()), d.client().getAddress(), d.originalDestination(), d.ingress(),
                new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                u.answered(ByteBufUtil.getBytes(p.content()));
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // e.g. ICMP port unreachable on the connected socket: the waiting queries fail, the next opens anew
            }
        });
        upstreamsOpened.increment();
        Channel ch = u.connected.channel();
        ch.closeFuture().addListener(f -> u.closed());
        u.connected.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) u.closed();
        });
        scheduleIdleCheck(u, idleNanos);
        return u;
    }

    private void scheduleIdleCheck(SharedUpstream u, long delayNanos) {
        Channel ch = u.connected.channel();
        ch.eventLoop().schedule(() -> {
            if (!ch.isOpen()) return;
            long idle = System.nanoTime() - u.lastUsed;
            if (idle >= idleNanos && u.waiting.isEmpty()) {
                upstreams.remove(u.key, u);
                ch.close();
            } else {
                scheduleIdleCheck(u, Math.max(idleNanos - idle, TimeUnit.MILLISECONDS.toNanos(100)));
            }
        }, Math.max(delayNanos, TimeUnit.MILLISECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
    }

    private void evictLeastRecentlyUsed(SharedUpstream keep) {
        while (upstreams.size() > maxUpstreams) {
            SharedUpstream oldest = null;
            for (SharedUpstream u : upstreams.values()) {
                if (u != keep && (oldest == null || u.lastUsed - oldest.lastUsed < 0)) oldest = u;
            }
            if (oldest == null || !upstreams.remove(oldest.key, oldest)) return;
            oldest.connected.channel().close(); // its waiting queries fail: SERVFAIL, the client asks again
        }
    }

    private static EventLoop otherLoop(EventLoop listener) {
        if (!(listener.parent() instanceof io.netty.channel.EventLoopGroup group)) return listener;
        for (int i = 0; i < 4; i++) {
            EventLoop l = group.next();
            if (l != listener) return l;
        }
        return listener;
    }

    /** A socket for one query only (its ID was already waiting on the shared one). */
    private static void ownSocket(RedirectedDatagram d, byte[] query, CompletableFuture<byte[]> answer) {
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
    }

    /** Upstream sockets kept now. */
    public int upstreams() {
        return upstreams.size();
    }

    /** Upstream sockets opened since start (shared ones; not the one-query sockets). */
    public long upstreamsOpened() {
        return upstreamsOpened.sum();
    }

    @Override
    public void close() {
        for (SharedUpstream u : upstreams.values()) {
            upstreams.remove(u.key, u);
            u.connected.channel().close();
        }
    }

    /** Runs {@code work} on the calling thread if it is one of the proxy's loops (all are in the datapath's namespace), else on {@code loop}. */
    private static void onAnyLoop(EventLoop loop, java.util.function.Consumer<EventLoop> work) {
        if (loop.parent() != null) {
            for (io.netty.util.concurrent.EventExecutor e : loop.parent()) {
                if (e.inEventLoop() && e instanceof EventLoop here) {
                    work.accept(here);
                    return;
                }
            }
        }
        loop.execute(() -> work.accept(loop));
    }

    private static void onLoop(EventLoop loop, Runnable r) {
        if (loop.inEventLoop()) r.run();
        else loop.execute(r);
    }
}
