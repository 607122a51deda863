package dev.sieve.proxy.kafka;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.ProxyProtocol;
import dev.sieve.proxy.Upstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A plain (not transparent) proxy listener on 127.0.0.1 for protocol tests: each accepted connection becomes a
 * {@link ProxiedConnection} with an explicit original destination, a plain upstream, a fixed policy and a
 * recording sink, handed to the protocol as the node proxy will.
 */
public final class KafkaProxyHarness implements AutoCloseable {

    public final Queue<L7Event> events = new ConcurrentLinkedQueue<>();
    private final EventLoopGroup group;
    private final Channel server;

    public KafkaProxyHarness(ProxyProtocol protocol, ConnectionPolicy policy, Supplier<InetSocketAddress> destination) {
        this(protocol, policy, destination, 1);
    }

    public KafkaProxyHarness(ProxyProtocol protocol, ConnectionPolicy policy, Supplier<InetSocketAddress> destination, int threads) {
        group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        InetSocketAddress dest = destination.get();
                        Upstream upstream = (loop, handler) -> new Bootstrap().group(loop).channel(NioSocketChannel.class)
                                .option(ChannelOption.TCP_NODELAY, true).handler(handler).connect(dest);
                        protocol.init(ch, new ProxiedConnection((InetSocketAddress) ch.remoteAddress(), dest, true,
                                port(), policy, upstream, events::add));
                    }
                });
        server = b.bind("127.0.0.1", 0).syncUninterruptibly().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port());
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The policy engine loaded with the demo cluster and {@code policyFiles} of examples/policies. */
    public static Tracer tracer(Path examples, String... policyFiles) throws Exception {
        List<Path> paths = new java.util.ArrayList<>();
        paths.add(examples.resolve("cluster"));
        for (String f : policyFiles) paths.add(examples.resolve("policies").resolve(f));
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        engine.load(ManifestParser.load(paths));
        return new Tracer(engine);
    }

    /** The policy of a TCP connection from pod {@code from} to pod {@code to} on {@code port}. */
    public static ConnectionPolicy connection(Tracer t, String from, String to, int port) {
        return t.connection(t.resolve(from), t.resolve(to), 6, port);
    }
}
