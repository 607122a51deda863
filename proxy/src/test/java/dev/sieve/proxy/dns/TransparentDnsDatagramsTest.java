package dev.sieve.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.transparent.RedirectedDatagram;
import dev.sieve.proxy.transparent.TransparentUdp;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The node's UDP path of the DNS proxy ({@link TransparentDnsDatagrams}) with real transparent sockets on loopback:
 * queries a server takes but never answers are answered SERVFAIL once the upstream timeout passed (the per-socket
 * sweep, not a timer per query), each from the server's address, none before the timeout, and the shared upstream
 * socket stays usable. Needs CAP_NET_ADMIN (IP_TRANSPARENT).
 */
class TransparentDnsDatagramsTest {

    private MultiThreadIoEventLoopGroup group;
    private TransparentUdp transport;
    private TransparentDnsDatagrams datagrams;
    private DatagramSocket silentServer;
    private DatagramSocket client;
    private final ConcurrentLinkedQueue<L7Event> events = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "IP_TRANSPARENT needs CAP_NET_ADMIN");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        transport = new TransparentUdp();
        silentServer = new DatagramSocket(null); // takes the queries, answers none
        silentServer.setReuseAddress(true); // the proxy's answer socket binds this address too (transparently)
        silentServer.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.57"), 0));
        client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client.setSoTimeout(3000);
    }

    @AfterEach
    void tearDown() {
        if (datagrams != null) datagrams.close();
        if (transport != null) transport.close();
        if (client != null) client.close();
        if (silentServer != null) silentServer.close();
        if (group != null) group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void unansweredQueriesGetServfailAfterTheUpstreamTimeoutFromTheServersAddress() throws Exception {
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, "node");
        engine.load(ManifestParser.load(List.of(Path.of("../examples/cluster/cluster.yaml"), Path.of("../examples/policies/03-allow-s3-egress.yaml"))));
        Tracer t = new Tracer(engine);
        ConnectionPolicy policy = t.connection(t.resolve("data-pipeline/uploader"), t.resolve("kube-system/kube-dns"), 17, 53);
        Duration timeout = Duration.ofMillis(400);
        DnsProxy dns = new DnsProxy((c, s, proto, port) -> policy, (ep, names, ips, ttl) -> CompletableFuture.completedFuture(null),
                events::add, (c, s, q) -> CompletableFuture.failedFuture(new IllegalStateException("not this path")),
                new DnsProxyConfig(DnsMessage.RCODE_REFUSED, timeout));
        datagrams = new TransparentDnsDatagrams(dns);
        InetSocketAddress server = (InetSocketAddress) silentServer.getLocalSocketAddress();
        InetSocketAddress from = (InetSocketAddress) client.getLocalSocketAddress();
        EventLoop loop = group.next();

        int queries = 20;
        long sent = System.nanoTime();
        for (int id = 1; id <= queries; id++) {
            byte[] q = DnsProxyTest.query(id, List.of("s3.amazonaws.com"), 1, 0x0100, false);
            loop.submit(() -> {
                var content = Unpooled.wrappedBuffer(q);
                try {
                    datagrams.received(new RedirectedDatagram(from, server, false, 0, policy, content, loop, transport, events::add));
                } finally {
                    content.release();
                }
            }).get(2, TimeUnit.SECONDS);
        }
        // the server did get them, from the client's address (the upstream socket is transparent)
        DatagramPacket asked = new DatagramPacket(new byte[512], 512);
        silentServer.setSoTimeout(2000);
        silentServer.receive(asked);
        assertThat(((InetSocketAddress) asked.getSocketAddress()).getAddress()).isEqualTo(from.getAddress());

        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < queries; i++) {
            DatagramPacket p = new DatagramPacket(new byte[512], 512);
            client.receive(p);
            long after = System.nanoTime() - sent;
            byte[] a = p.getData();
            assertThat(after).as("answered before the timeout").isGreaterThanOrEqualTo(timeout.toNanos() - TimeUnit.MILLISECONDS.toNanos(50));
            assertThat(p.getSocketAddress()).as("the answer's source").isEqualTo(server);
            assertThat(a[2] & 0x80).as("a response").isNotZero();
            assertThat(a[3] & 0x0F).as("rcode").isEqualTo(DnsMessage.RCODE_SERVFAIL);
            ids.add((a[0] & 0xFF) << 8 | (a[1] & 0xFF));
        }
        assertThat(ids).as("each query answered once").hasSize(queries);
        assertThat(datagrams.upstreams()).as("the queries shared one upstream socket").isEqualTo(1);
        assertThat(datagrams.upstreamsOpened()).isEqualTo(1);
        assertThat(dns.stats().upstreamErrors.sum()).isEqualTo(queries);
    }
}
