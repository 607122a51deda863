package dev.sieve.proxy.dns;

import dev.sieve.proxy.transparent.BatchedFlush;
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
import java.util.ArrayList;
import java.util.List;
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
 * namespace, and the proxy may answer from another thread (after learning). A query, its upstream socket, its answer
 * and the reply stay on the listener's event loop (no thread hop, no wake-up per query); a query's timeout is a
 * sweep per socket, not a timer per query.
 */
public final class TransparentDnsDatagrams implements DatagramProtocol, AutoCloseable {

    public static final int DEFAULT_MAX_UPSTREAMS = 1024;
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(30);

    private final DnsProxy dns;
    private final int maxUpstreams;
    private final long idleNanos;
    private final ConcurrentHashMap<UpstreamKey, SharedUpstream> upstreams = new ConcurrentHashMap<>();
    private final LongAdder upstreamsOpened = new LongAdder();
    private final long timeoutNanos;

    public TransparentDnsDatagrams(DnsProxy dns) {
        this(dns, DEFAULT_MAX_UPSTREAMS, DEFAULT_IDLE);
    }

    public TransparentDnsDatagrams(DnsProxy dns, int maxUpstreams, Duration idle) {
        this.dns = dns;
        this.maxUpstreams = maxUpstreams;
        this.idleNanos = idle.toNanos();
        this.timeoutNanos = dns.config().upstreamTimeout().toNanos();
    }

    @Override
    public void received(RedirectedDatagram d) {
        byte[] query = ByteBufUtil.getBytes(d.content());
        EventLoop loop = d.loop();
        dns.onDatagram(query, d.client(), d.originalDestination(), d.ingress(), d.proxyPort(), d.policy(),
                answer -> onAnyLoop(loop, here -> d.transport().reply(here, d.originalDestination(), d.client(), Unpooled.wrappedBuffer(answer))),
                (client, server, q) -> exchange(d, q), true);
    }

    private record UpstreamKey(InetAddress client, InetSocketAddress server, boolean ingress, EventLoop loop) {}

    /** A query waiting for its answer, and until when (System.nanoTime). */
    private record Pending(CompletableFuture<byte[]> answer, long deadline) {}

    /**
     * One kept upstream socket and the queries waiting on it, by DNS ID. Everything runs on its event loop (the
     * listener's: the query, its answer and the reply never change threads).
     */
    private final class SharedUpstream {
        final UpstreamKey key;
        final io.netty.util.collection.IntObjectHashMap<Pending> waiting = new io.netty.util.collection.IntObjectHashMap<>();
        ChannelFuture connected;
        long lastUsed = System.nanoTime();
        boolean sweeping;

        SharedUpstream(UpstreamKey key) {
            this.key = key;
        }

        void answered(byte[] answer) {
            if (answer.length < 2) return;
            Pending p = waiting.remove((answer[0] & 0xFF) << 8 | (answer[1] & 0xFF));
            if (p != null) p.answer.complete(answer);
        }

        void closed() {
            upstreams.remove(key, this);
            fail(new java.nio.channels.ClosedChannelException());
        }

        void fail(Throwable cause) {
            if (waiting.isEmpty()) return;
            List<Pending> all = new ArrayList<>(waiting.values());
            waiting.clear();
            for (Pending p : all) p.answer.completeExceptionally(cause);
        }

        /** Fails the queries past their deadline; runs again while any wait (one timer per socket, not per query). */
        void sweep() {
            sweeping = false;
            long now = System.nanoTime();
            long next = Long.MAX_VALUE;
            List<Pending> late = null;
            for (var it = waiting.entries().iterator(); it.hasNext(); ) {
                Pending p = it.next().value();
                if (p.deadline - now <= 0) {
                    it.remove();
                    if (late == null) late = new ArrayList<>();
                    late.add(p);
                } else {
                    next = Math.min(next, p.deadline - now);
                }
            }
            if (late != null) for (Pending p : late) p.answer.completeExceptionally(new java.util.concurrent.TimeoutException("no answer from " + key.server));
            if (next != Long.MAX_VALUE) scheduleSweep(next);
        }

        void scheduleSweep(long delayNanos) {
            if (sweeping) return;
            sweeping = true;
            connected.channel().eventLoop().schedule(this::sweep, Math.max(delayNanos, TimeUnit.MILLISECONDS.toNanos(10)), TimeUnit.NANOSECONDS);
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
            UpstreamKey key = new UpstreamKey(d.client().getAddress(), d.originalDestination(), d.ingress(), d.loop());
            SharedUpstream u = upstreams.get(key);
            if (u == null || !u.connected.channel().isOpen()) { // opened outside the map: its listeners may remove it
                if (u != null) upstreams.remove(key, u);
                u = open(d, key);
                upstreams.put(key, u);
            }
            long now = System.nanoTime();
            u.lastUsed = now;
            if (upstreams.size() > maxUpstreams) evictLeastRecentlyUsed(u);
            if (u.waiting.containsKey(id)) { // that ID is in flight on the shared socket: one of its own
                ownSocket(d, query, answer, timeoutNanos);
                return;
            }
            u.waiting.put(id, new Pending(answer, now + timeoutNanos));
            u.scheduleSweep(timeoutNanos);
            Channel ch = u.connected.channel();
            if (u.connected.isSuccess()) {
                BatchedFlush.write(ch, Unpooled.wrappedBuffer(query), ch.voidPromise()); // a failed write closes it: closed() fails the query
                return;
            }
            SharedUpstream shared = u;
            u.connected.addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess()) {
                    shared.waiting.remove(id);
                    answer.completeExceptionally(f.cause());
                    return;
                }
                f.channel().writeAndFlush(Unpooled.wrappedBuffer(query), f.channel().voidPromise());
            });
        });
        return answer;
    }

    private SharedUpstream open(RedirectedDatagram d, UpstreamKey key) {
        SharedUpstream u = new SharedUpstream(key);
        // on the listener's loop: the query, its answer, the learning check and the reply stay on one thread
        u.connected = d.transport().upstream(d.loop(), d.client().getAddress(), d.originalDestination(), d.ingress(),
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

    /** A socket for one query only (its ID was already waiting on the shared one). */
    private static void ownSocket(RedirectedDatagram d, byte[] query, CompletableFuture<byte[]> answer, long timeoutNanos) {
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
        var timeout = d.loop().schedule(() -> {
            answer.completeExceptionally(new java.util.concurrent.TimeoutException("no answer from " + d.originalDestination()));
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        answer.whenComplete((v, e) -> {
            timeout.cancel(false);
            connected.channel().close();
        });
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
