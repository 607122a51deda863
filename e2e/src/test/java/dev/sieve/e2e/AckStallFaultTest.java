package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.relay.ingest.FlowIngestService;
import dev.sieve.relay.ingest.IngestHeaders;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import dev.sieve.relay.support.TestFlows;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * F6 as the issue states the fault: a TCP proxy between a node's push (the agent's own RelayPusher) and a real gRPC
 * relay ingest holds back everything the relay sends (its acknowledgements) for 30 s while the node keeps pushing. The
 * node must notice (acknowledgement deadline), reconnect and resend; afterwards every flow is stored exactly once.
 */
@Timeout(180)
class AckStallFaultTest {
    @TempDir
    Path dir;

    /** Forwards both ways; while stalled, nothing the server sends reaches the client (held, not dropped). */
    static final class StallingProxy implements AutoCloseable {
        final ServerSocket listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        final List<Socket> sockets = new CopyOnWriteArrayList<>();
        volatile long stalledUntil;
        final int target;

        StallingProxy(int target) throws IOException {
            this.target = target;
            Thread.ofPlatform().daemon().start(this::accept);
        }

        int port() {
            return listener.getLocalPort();
        }

        void stall(Duration d) {
            stalledUntil = System.nanoTime() + d.toNanos();
        }

        private void accept() {
            try {
                while (true) {
                    Socket c = listener.accept();
                    Socket s = new Socket("127.0.0.1", target);
                    sockets.add(c);
                    sockets.add(s);
                    Thread.ofPlatform().daemon().start(() -> pump(c, s, false));
                    Thread.ofPlatform().daemon().start(() -> pump(s, c, true));
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void pump(Socket from, Socket to, boolean fromServer) {
            byte[] buf = new byte[65536];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    while (fromServer && System.nanoTime() < stalledUntil) Thread.sleep(50);
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // either side went away
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closed
                }
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket s : sockets) s.close();
        }
    }

    @Test
    void acknowledgementsHeldBackFor30SecondsCostNoFlowAndNoDuplicate() throws Exception {
        MemoryFlowStore store = new MemoryFlowStore(1_000_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        NodeRegistry nodes = new NodeRegistry(Clock.systemUTC(), Duration.ofSeconds(60));
        IngestProcessor processor = new IngestProcessor(store, new LiveFlows(1000), nodes, new RelayMetrics(), new IngestProcessor.Limits(10_000, 16 << 20));
        Server relay = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerInterceptors.intercept(new FlowIngestService(processor, nodes, pool), new IngestHeaders())).build().start();
        int total = 0;
        try (StallingProxy proxy = new StallingProxy(relay.getPort());
             RelayPusher node = new RelayPusher("127.0.0.1:" + proxy.port(), "node-a", dir.resolve("spool"), 64 << 20,
                     new RelayPusher.Settings(100, Duration.ofMillis(50), 32, Duration.ofSeconds(1)))) {
            TestFlows g = new TestFlows(1, "node-a", dev.sieve.relay.query.Timestamps.nanos(Instant.now().minusSeconds(600)));
            for (Flow f : g.next(500)) node.offer(f);
            total += 500;
            assertThat(node.flush(Duration.ofSeconds(30))).isTrue();
            proxy.stall(Duration.ofSeconds(30));
            long reconnectsBefore = node.reconnects();
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < end) { // the node keeps producing through the stall
                for (Flow f : g.next(100)) node.offer(f);
                total += 100;
                Thread.sleep(200);
            }
            assertThat(node.flush(Duration.ofSeconds(60))).as("everything acknowledged after the stall").isTrue();
            assertThat(node.reconnects()).as("the acknowledgement deadline made the node reconnect").isGreaterThan(reconnectsBefore);
            assertThat(node.lostFlows()).isZero();
        } finally {
            relay.shutdownNow();
            relay.awaitTermination(5, TimeUnit.SECONDS);
            pool.shutdownNow();
        }
        List<Flow> stored = store.query(FlowQuery.all());
        Set<String> ids = new HashSet<>();
        for (Flow f : stored) ids.add(f.getUuid());
        assertThat(stored).as("0 lost, 0 duplicates").hasSize(total);
        assertThat(ids).hasSize(total);
        store.close();
    }
}
