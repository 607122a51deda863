package dev.sieve.bench;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.dns.DnsProxy;
import dev.sieve.proxy.dns.DnsProxyConfig;
import dev.sieve.proxy.dns.FqdnLearner;
import dev.sieve.proxy.dns.PlainDnsUpstream;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import java.io.ByteArrayOutputStream;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * DNS proxy cost on loopback: queries/s and latency of A queries for an allowed name straight to a real dnsmasq
 * and through the DNS proxy (policy judged with the seed's 03-allow-s3-egress, upstream from a fresh socket per
 * query, learning off), with 1 and 32 concurrent clients (blocking UDP clients, one query in flight each).
 *
 * <p>Usage: {@code DnsBench RESULTS_JSON SECONDS REPO_DIR}.
 */
public final class DnsBench {

    record Result(String target, int clients, double qps, double p50Ms, double p99Ms, long queries, long timeouts) {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int seconds = Integer.parseInt(args[1]);
        Path repo = Path.of(args.length > 2 ? args[2] : ".");
        int dnsPort = freePort();
        Path log = Files.createTempFile("sieve-bench-dnsmasq", ".log");
        Process dnsmasq = new ProcessBuilder("dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
                "--bind-interfaces", "--listen-address=127.0.0.1", "--port=" + dnsPort, "--pid-file=", "--user=root",
                "--local-ttl=30", "--host-record=s3.amazonaws.com,198.51.100.1").redirectErrorStream(true).redirectOutput(log.toFile()).start();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Thread.sleep(500);
            InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), dnsPort);
            PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, "node");
            engine.load(ManifestParser.load(List.of(repo.resolve("examples/cluster/cluster.yaml"), repo.resolve("examples/policies/03-allow-s3-egress.yaml"))));
            Tracer t = new Tracer(engine);
            ConnectionPolicy policy = t.connection(t.resolve("data-pipeline/uploader"), t.resolve("kube-system/kube-dns"), 17, 53);
            DnsProxy proxy = new DnsProxy((c, s, p, port) -> policy, FqdnLearner.NONE, e -> { }, new PlainDnsUpstream(group), DnsProxyConfig.DEFAULT);
            Channel listener = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65535))
                    .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket p) {
                            InetSocketAddress client = p.sender();
                            Channel ch = ctx.channel();
                            proxy.onDatagram(ByteBufUtil.getBytes(p.content()), client, server, false, 0,
                                    a -> ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(a), client)));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int proxyPort = ((InetSocketAddress) listener.localAddress()).getPort();

            List<Result> results = new ArrayList<>();
            load("direct", dnsPort, 4, 2); // warm-up (JIT)
            load("proxy", proxyPort, 4, 3);
            for (int clients : new int[] {1, 32}) {
                results.add(load("direct", dnsPort, clients, seconds));
                results.add(load("proxy", proxyPort, clients, seconds));
            }
            listener.close().sync();
            StringBuilder json = new StringBuilder("{\n  \"note\": \"one run on a shared, busy 2-core machine; loopback, dnsmasq " + "answering from local records\",\n  \"seconds_per_run\": " + seconds + ",\n  \"runs\": [\n");
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                json.append(String.format(Locale.ROOT, "    {\"target\": \"%s\", \"clients\": %d, \"qps\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"queries\": %d, \"timeouts\": %d}%s%n",
                        r.target, r.clients, r.qps, r.p50Ms, r.p99Ms, r.queries, r.timeouts, i < results.size() - 1 ? "," : ""));
                System.out.printf(Locale.ROOT, "%-6s %2d clients: %8.0f queries/s  p50 %.3f ms  p99 %.3f ms  (%d queries, %d timeouts)%n",
                        r.target, r.clients, r.qps, r.p50Ms, r.p99Ms, r.queries, r.timeouts);
            }
            json.append("  ],\n  \"summary\": [\n");
            List<String> sums = new ArrayList<>();
            for (int i = 0; i + 1 < results.size(); i += 2) {
                Result d = results.get(i), p = results.get(i + 1);
                String s = String.format(Locale.ROOT, "    {\"clients\": %d, \"proxy_qps_of_direct\": %.3f, \"p99_added_ms\": %.3f}",
                        d.clients, p.qps / d.qps, p.p99Ms - d.p99Ms);
                sums.add(s);
                System.out.printf(Locale.ROOT, "%2d clients: proxy at %.0f%% of direct queries/s, p99 +%.3f ms%n", d.clients, 100 * p.qps / d.qps, p.p99Ms - d.p99Ms);
            }
            json.append(String.join(",\n", sums)).append("\n  ]\n}\n");
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            dnsmasq.destroy();
            dnsmasq.waitFor(5, TimeUnit.SECONDS);
            Files.deleteIfExists(log);
        }
    }

    static Result load(String target, int port, int clients, int seconds) throws Exception {
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong timeouts = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        List<long[]> lat = new ArrayList<>();
        int[] counts = new int[clients];
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            long[] mine = new long[400_000];
            lat.add(mine);
            int idx = c;
            threads[c] = Thread.ofPlatform().start(() -> {
                try (DatagramSocket s = new DatagramSocket()) {
                    s.setSoTimeout(1000);
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                    byte[] buf = new byte[4096];
                    java.net.DatagramPacket in = new java.net.DatagramPacket(buf, buf.length);
                    int id = idx * 1000;
                    while (System.nanoTime() < end && counts[idx] < mine.length) {
                        byte[] q = query(++id & 0xFFFF);
                        long t0 = System.nanoTime();
                        s.send(new java.net.DatagramPacket(q, q.length));
                        try {
                            do {
                                s.receive(in);
                            } while (((buf[0] & 0xFF) << 8 | (buf[1] & 0xFF)) != (id & 0xFFFF));
                        } catch (SocketTimeoutException e) {
                            timeouts.incrementAndGet();
                            continue;
                        }
                        long took = System.nanoTime() - t0;
                        if ((buf[2] & 0x80) == 0 || (buf[3] & 0xF) != 0 || buf[7] != 1) { // not a NOERROR answer with one record
                            bad.incrementAndGet();
                            continue;
                        }
                        mine[counts[idx]++] = took;
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        for (Thread t : threads) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        int total = 0;
        for (int n : counts) total += n;
        long[] all = new long[total];
        int k = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(lat.get(c), 0, all, k, counts[c]);
            k += counts[c];
        }
        Arrays.sort(all);
        double p50 = total == 0 ? 0 : all[total / 2] / 1e6;
        double p99 = total == 0 ? 0 : all[Math.max(0, (int) Math.ceil(0.99 * total) - 1)] / 1e6;
        if (bad.get() > 0) throw new IllegalStateException(target + ": " + bad.get() + " answers were not NOERROR with one A record");
        return new Result(target, clients, total / elapsed, p50, p99, total, timeouts.get());
    }

    static byte[] query(int id) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] h = {id, 0x0100, 1, 0, 0, 0};
        for (int v : h) {
            out.write(v >> 8);
            out.write(v);
        }
        for (String l : "s3.amazonaws.com".split("\\.")) {
            out.write(l.length());
            out.writeBytes(l.getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    static int freePort() throws Exception {
        try (DatagramSocket u = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            return u.getLocalPort();
        }
    }
}
