package dev.sieve.proxy.transparent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.policy.l7.L7Rules.L7Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node proxy's listeners on real sockets in this process's namespace (IP_TRANSPARENT needs root): ports
 * from the range, two proxies side by side, the previous run's ports reused, fail closed without a protocol.
 */
class NodeProxyTest {

    @TempDir
    Path dir;
    int low;

    @BeforeEach
    void root() {
        assumeTrue("root".equals(System.getProperty("user.name")), "IP_TRANSPARENT needs CAP_NET_ADMIN");
        low = 30000 + ThreadLocalRandom.current().nextInt(20000);
    }

    NodeProxy proxy(int lo, int hi, Path state) {
        return new NodeProxy(new NodeProxy.Settings(lo, hi, state, Thread.ofPlatform().daemon().factory(), 1, true),
                (c, s, p, port) -> null, e -> {});
    }

    @Test
    void oneListenerPerProtocolAndDirectionOnTheFirstFreePortsSoTwoProxiesFitSideBySide() throws IOException {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("0.0.0.0", low + 1)); // someone else's port inside the range
            try (NodeProxy a = proxy(low, low + 40, null).start(); NodeProxy b = proxy(low, low + 40, null).start()) {
                Map<ProxyListener, Integer> pa = a.ports(), pb = b.ports();
                assertThat(pa).hasSize(6).containsKeys(ProxyListener.all().toArray(ProxyListener[]::new));
                assertThat(pa.get(new ProxyListener(L7Protocol.HTTP, true))).isEqualTo(low);
                assertThat(pa.values()).doesNotContain(low + 1).allMatch(p -> p >= low && p <= low + 40);
                Set<Integer> all = new HashSet<>(pa.values());
                all.addAll(pb.values());
                assertThat(all).as("distinct ports across both proxies").hasSize(12);
                assertThat(a.port(L7Protocol.DNS, false)).isEqualTo(pa.get(new ProxyListener(L7Protocol.DNS, false)));
            }
        }
    }

    @Test
    void aRestartReusesThePreviousPortsWhenFree() throws IOException {
        Path state = dir.resolve("proxy-ports");
        Map<ProxyListener, Integer> first;
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("0.0.0.0", low)); // pushes the first run up the range
            try (NodeProxy a = proxy(low, low + 40, state).start()) {
                first = a.ports();
            }
        }
        assertThat(Files.readString(state)).contains("http-ingress " + first.get(new ProxyListener(L7Protocol.HTTP, true)));
        try (NodeProxy b = proxy(low, low + 40, state).start()) {
            assertThat(b.ports()).as("same ports although the range's first one is free again").isEqualTo(first);
        }
    }

    @Test
    void aRangeTooSmallOrFullIsAClearError() throws IOException {
        assertThatThrownBy(() -> proxy(low, low + 3, null)).hasMessageContaining("fewer than 6 ports");
        assertThatThrownBy(() -> NodeProxy.Settings.parseRange("20000-10000")).hasMessageContaining("LOW-HIGH");
        try (NodeProxy a = proxy(low, low + 5, null).start()) {
            assertThatThrownBy(() -> proxy(low, low + 5, null).start()).hasMessageContaining("no free port");
        }
    }

    @Test
    void aProtocolWithoutHandlerClosesEveryConnection() throws Exception {
        try (NodeProxy a = proxy(low, low + 10, null).start(); Socket s = new Socket()) {
            int r;
            try {
                s.connect(new InetSocketAddress("127.0.0.1", a.port(L7Protocol.KAFKA, true)), 2000);
                s.setSoTimeout(2000);
                InputStream in = s.getInputStream();
                r = in.read();
            } catch (java.net.SocketException reset) {
                r = -1; // reset (the proxy closes with SO_LINGER 0), possibly before connect() returned: closed as well
            }
            assertThat(r).as("closed by the proxy").isEqualTo(-1);
        }
    }

    @Test
    void aListenerThatClosesIsOpenedAgainOnItsPort() throws Exception {
        try (NodeProxy a = proxy(low, low + 10, null).start()) {
            ProxyListener l = new ProxyListener(L7Protocol.HTTP, true);
            int port = a.port(l);
            a.channels(l).getFirst().close().syncUninterruptibly(); // the IPv4 socket dies
            long deadline = System.nanoTime() + 5_000_000_000L;
            boolean back = false;
            while (!back && System.nanoTime() < deadline) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    back = true;
                } catch (java.net.ConnectException e) {
                    Thread.sleep(100);
                }
            }
            assertThat(back).as("reopened on port " + port).isTrue();
            assertThat(a.port(l)).isEqualTo(port);
        }
    }

    @Test
    void suspendedListenersRefuseAndResumeOnTheSamePorts() throws Exception {
        try (NodeProxy a = proxy(low, low + 10, null).start()) {
            int port = a.port(L7Protocol.HTTP, false);
            a.suspend();
            assertThat(a.listening()).isFalse();
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(java.net.ConnectException.class);
            a.resume();
            assertThat(a.port(L7Protocol.HTTP, false)).isEqualTo(port);
            new Socket("127.0.0.1", port).close();
        }
    }
}
