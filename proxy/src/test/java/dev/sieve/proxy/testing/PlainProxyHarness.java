package dev.sieve.proxy.testing;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.L7EventSink;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import dev.sieve.proxy.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A plain (non-transparent) proxy listener for protocol tests: a Netty listener on 127.0.0.1 whose every accepted
 * connection becomes a {@link ProxiedConnection} with an explicit original destination, a plain upstream (the server
 * sees the proxy's address), a fixed {@link ConnectionPolicy} computed by the real policy engine, and a sink that
 * records every {@link L7Event}. Also a standalone main for benchmarks.
 */
public final class PlainProxyHarness implements AutoCloseable {

    /** Prints the mean upstream latency of the responses each second (benchmark diagnostics). */
    private enum LatencyPrinter implements L7EventSink {
        INSTANCE;
        private final java.util.concurrent.atomic.LongAdder n = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder sum = new java.util.concurrent.atomic.LongAdder();

        LatencyPrinter() {
            Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                    long c = n.sumThenReset(), s = sum.sumThenReset();
                    if (c > 0) System.err.println("responses " + c + "/s, mean upstream latency " + (s / c / 1000) + " us");
                }
            });
        }

        @Override
        public void accept(L7Event e) {
            if (e.isResponse()) {
                n.increment();
                sum.add(e.layer7().getLatencyNs());
            }
        }
    }

    private final EventLoopGroup group;
    private final Channel listener;
    private final List<L7Event> events = new CopyOnWriteArrayList<>();

    private PlainProxyHarness(ProxyProtocol protocol, InetSocketAddress originalDestination, boolean ingress,
                              ConnectionPolicy policy, int threads, int port, boolean record) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> serverClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends Channel> clientClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        group = new MultiThreadIoEventLoopGroup(threads, io);
        L7EventSink sink = record ? events::add : Boolean.getBoolean("sieve.bench.latency") ? LatencyPrinter.INSTANCE : e -> { };
        Upstream upstream = (loop, handler) -> new Bootstrap().group(loop).channel(clientClass)
                .option(ChannelOption.TCP_NODELAY, true).handler(handler).connect(originalDestination);
        listener = new ServerBootstrap().group(group).channel(serverClass)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        InetSocketAddress local = ch.localAddress();
                        protocol.init(ch, new ProxiedConnection(ch.remoteAddress(), originalDestination, ingress,
                                local.getPort(), policy, upstream, sink));
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
    }

    /** A listener on a free port of 127.0.0.1 proxying to {@code originalDestination} under {@code policy}. */
    public static PlainProxyHarness start(ProxyProtocol protocol, InetSocketAddress originalDestination,
                                          ConnectionPolicy policy) throws InterruptedException {
        return new PlainProxyHarness(protocol, originalDestination, true, policy, 2, 0, true);
    }

    /** Like {@link #start}, with {@code threads} event loops, recording events or only discarding them (benchmarks). */
    public static PlainProxyHarness start(ProxyProtocol protocol, InetSocketAddress originalDestination,
                                          ConnectionPolicy policy, int threads, boolean record) throws InterruptedException {
        return new PlainProxyHarness(protocol, originalDestination, true, policy, threads, 0, record);
    }

    /**
     * The policy of a connection from {@code from} to {@code to} (trace's peer syntax, e.g.
     * {@code production/api-consumer}) on TCP {@code port}, from the real engine over {@code manifests}.
     */
    public static ConnectionPolicy policy(List<Path> manifests, String from, String to, int port) {
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        try {
            engine.load(ManifestParser.load(manifests));
        } catch (ValidationException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Tracer t = new Tracer(engine);
        return t.connection(t.resolve(from), t.resolve(to), 6, port);
    }

    /** The repository's {@code examples/} (tests run in the module's folder). */
    public static Path examples() {
        return Path.of(System.getProperty("sieve.examples.dir", "../examples")).toAbsolutePath().normalize();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    public List<L7Event> events() {
        return List.copyOf(events);
    }

    public void clearEvents() {
        events.clear();
    }

    /** Waits up to {@code timeoutMs} for {@code n} events matching {@code p}; returns those seen. */
    public List<L7Event> await(Predicate<L7Event> p, int n, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        List<L7Event> seen;
        do {
            seen = new ArrayList<>();
            for (L7Event e : events) if (p.test(e)) seen.add(e);
            if (seen.size() >= n) return seen;
            Thread.sleep(10);
        } while (System.nanoTime() < end);
        return seen;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Standalone: {@code PORT UPSTREAM_HOST:PORT FROM TO DPORT MANIFEST...} — the HTTP proxy on 127.0.0.1:PORT
     * (0: any) with the policy of FROM -> TO:DPORT over the manifests, events discarded; prints the port.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: PlainProxyHarness PORT UPSTREAM_HOST:PORT FROM TO DPORT MANIFEST...");
            System.exit(2);
        }
        dev.sieve.proxy.transparent.NodeProxy.leakSamplingOffUnlessConfigured(); // as the agent runs it
        int port = Integer.parseInt(args[0]);
        String[] up = args[1].split(":");
        List<Path> manifests = new ArrayList<>();
        for (int i = 5; i < args.length; i++) manifests.add(Path.of(args[i]));
        ConnectionPolicy policy = policy(manifests, args[2], args[3], Integer.parseInt(args[4]));
        int threads = Integer.getInteger("threads", dev.sieve.proxy.transparent.NodeProxy.defaultEventLoops());
        PlainProxyHarness h = new PlainProxyHarness(new dev.sieve.proxy.http.HttpProxyProtocol(),
                new InetSocketAddress(up[0], Integer.parseInt(up[1])), true, policy, threads, port, false);
        System.out.println(h.port());
        System.out.flush();
        Thread.currentThread().join();
    }
}
