package dev.sieve.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sieve.api.flow.Verdict;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.testing.PlainProxyHarness;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Clients that try to hold, choke or confuse the proxy: none stalls it, each gets the standard answer. */
class HttpProxyAbuseTest {

    static HttpServer server;
    static PlainProxyHarness proxy;
    static final HttpProxyLimits LIMITS = new HttpProxyLimits(1024, 4096, Duration.ofMillis(700), Duration.ofSeconds(2), 64, 64);

    @BeforeAll
    static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] body = ("ok " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        proxy = PlainProxyHarness.start(new HttpProxyProtocol(LIMITS), server.getAddress(), HttpProxyTest.apiFilter("production/api-consumer"));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (server != null) server.stop(0);
    }

    @BeforeEach
    void clear() {
        proxy.clearEvents();
    }

    private static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", proxy.port());
        s.setSoTimeout(10000);
        return s;
    }

    /** A well-behaved request still answered: the proxy is not stalled. */
    private static void stillServes() throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write("GET /api/ok HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("ok /api/ok");
        }
    }

    private static int readToEnd(InputStream in) throws IOException {
        try {
            while (in.read() >= 0) { }
        } catch (SocketException e) {
            // reset after close is fine
        }
        return -1;
    }

    @Test
    void slowLorisGets408AndIsClosedWhileOthersAreServed() throws Exception {
        List<Socket> loris = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Socket s = connect();
                s.getOutputStream().write("GET /api/users HTTP/1.1\r\nHost: api\r\nX-A: ".getBytes(StandardCharsets.US_ASCII));
                loris.add(s);
            }
            stillServes();
            long t0 = System.nanoTime();
            for (Socket s : loris) {
                assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 408");
                assertThat(readToEnd(s.getInputStream())).isEqualTo(-1);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        } finally {
            for (Socket s : loris) s.close();
        }
        stillServes();
    }

    @Test
    void aSlowButSteadyTrickleStillMeetsTheHeaderDeadline() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            byte[] req = "GET /api/users HTTP/1.1\r\nHost: api\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            try {
                for (byte b : req) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(20); // ~1.7 s in all, past the 0.7 s deadline
                }
            } catch (SocketException closed) {
                // the proxy may close before the last byte
            }
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 408");
        }
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write("GET /api/users HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            long t0 = System.nanoTime();
            assertThat(readToEnd(s.getInputStream())).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(4));
        }
    }

    @Test
    void oversizedHeadersGet431() throws Exception {
        try (Socket s = connect()) {
            String big = "x".repeat(8000);
            s.getOutputStream().write(("GET /api/users HTTP/1.1\r\nHost: api\r\nX-Big: " + big + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 431");
            assertThat(readToEnd(s.getInputStream())).isEqualTo(-1);
        }
        List<L7Event> ev = proxy.await(e -> true, 2, 3000);
        assertThat(ev).extracting(L7Event::verdict).containsExactly(Verdict.ERROR, Verdict.ERROR);
        assertThat(ev.get(1).layer7().getHttp().getCode()).isEqualTo(431);
        stillServes();
    }

    @Test
    void aTooLongUriGets414() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(("GET /api/" + "a".repeat(4000) + " HTTP/1.1\r\nHost: api\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 414");
        }
        stillServes();
    }

    @Test
    void malformedRequestsGet400AndAreReportedAsErrors() throws Exception {
        for (String bad : List.of(
                "GET /api/users HTTP/1.1\r\nHost: api\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "GET /api/users HTTP/9.9x\r\nHost: api\r\n\r\n",
                "GET /api/users HTTP/1.1\r\nBad Header Line\r\n\r\n")) {
            proxy.clearEvents();
            try (Socket s = connect()) {
                s.getOutputStream().write(bad.getBytes(StandardCharsets.US_ASCII));
                assertThat(HttpProxyTest.readResponse(s.getInputStream())).as(bad).startsWith("HTTP/1.1 400");
                assertThat(readToEnd(s.getInputStream())).isEqualTo(-1);
            }
            List<L7Event> ev = proxy.await(e -> true, 2, 3000);
            assertThat(ev).as(bad).extracting(L7Event::verdict).containsExactly(Verdict.ERROR, Verdict.ERROR);
        }
        stillServes();
    }

    @Test
    void garbageGets400AndClose() throws Exception {
        for (byte[] junk : List.of(new byte[] {0, 1, 2, 3, (byte) 0xff, 10, 13, 10, 13},
                "\u0016\u0003\u0001\u0002\u0000\u0001".getBytes(StandardCharsets.ISO_8859_1), // a TLS ClientHello
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".getBytes(StandardCharsets.US_ASCII))) {
            try (Socket s = connect()) {
                s.getOutputStream().write(junk);
                assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 400");
                assertThat(readToEnd(s.getInputStream())).isEqualTo(-1);
            }
        }
        stillServes();
    }

    @Test
    void aPathologicalRegexIsLinear() throws Exception {
        Path ex = PlainProxyHarness.examples();
        Path policy = Path.of(getClass().getResource("/pathological-regex-policy.yaml").toURI());
        try (PlainProxyHarness p = PlainProxyHarness.start(new HttpProxyProtocol(), server.getAddress(),
                PlainProxyHarness.policy(List.of(ex.resolve("cluster"), policy), "production/api-consumer", "production/api-server", 80));
             Socket s = new Socket("127.0.0.1", p.port())) {
            s.setSoTimeout(10000);
            String path = "/" + "a".repeat(6000) + "b"; // matches neither rule; exponential for a backtracking engine
            long t0 = System.nanoTime();
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: api\r\n\r\nGET /" + "a".repeat(6000) + " HTTP/1.1\r\nHost: api\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        }
    }

    @Test
    void aDeniedUploadIsDiscardedAndTheConnectionKept() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            int len = 4 << 20;
            out.write(("PUT /api/users HTTP/1.1\r\nHost: api\r\nContent-Length: " + len + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] buf = new byte[65536];
            for (int n = 0; n < len; n += buf.length) out.write(buf);
            out.write("GET /api/after HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).startsWith("HTTP/1.1 403");
            assertThat(HttpProxyTest.readResponse(s.getInputStream())).endsWith("ok /api/after");
        }
    }
}
