package dev.sieve.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.testing.PlainProxyHarness;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 through the proxy with the seed's {@code 02-api-http-filter} (api-consumer -> api-server:80): a real
 * JDK HTTP server behind it, the JDK's HTTP client and raw sockets in front.
 */
class HttpProxyTest {

    static HttpServer server;
    static final ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    static final AtomicLong stalledBodyRead = new AtomicLong();
    static PlainProxyHarness proxy;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", ex -> {
            String token = ex.getRequestHeaders().getFirst("X-App-Token");
            String line = ex.getRequestMethod() + " " + ex.getRequestURI() + (token == null ? "" : " token=" + token);
            seen.add(line);
            if (ex.getRequestHeaders().containsKey("X-Stall")) sleep(2500);
            long n = 0;
            try (InputStream in = ex.getRequestBody()) {
                byte[] buf = new byte[65536];
                for (int r; (r = in.read(buf)) > 0; ) n += r;
            }
            byte[] body = ("ok " + line + " bytes=" + n).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        proxy = PlainProxyHarness.start(new HttpProxyProtocol(), server.getAddress(), apiFilter("production/api-consumer"));
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    static ConnectionPolicy apiFilter(String from) {
        Path ex = PlainProxyHarness.examples();
        return PlainProxyHarness.policy(List.of(ex.resolve("cluster"), ex.resolve("policies/02-api-http-filter.yaml")),
                from, "production/api-server", 80);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (server != null) server.stop(0);
    }

    @BeforeEach
    void clear() {
        seen.clear();
        proxy.clearEvents();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private HttpResponse<String> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void allowedGetIsForwardedAndReportedWithItsRule() throws Exception {
        HttpResponse<String> r = send("GET", "/api/users?page=2");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("ok GET /api/users?page=2 bytes=0");

        List<L7Event> ev = proxy.await(e -> true, 2, 5000);
        assertThat(ev).hasSize(2);
        L7Event req = ev.get(0), resp = ev.get(1);
        String url = "http://127.0.0.1:" + proxy.port() + "/api/users?page=2";
        assertThat(req.layer7().getType()).isEqualTo(L7FlowType.REQUEST);
        assertThat(req.verdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(req.layer7().getHttp().getMethod()).isEqualTo("GET");
        assertThat(req.layer7().getHttp().getUrl()).isEqualTo(url);
        assertThat(req.layer7().getHttp().getProtocol()).isEqualTo("HTTP/1.1");
        assertThat(req.layer7().getHttp().getHeadersList()).anyMatch(h -> h.getKey().equals("host"));
        assertThat(req.summary()).isEqualTo("HTTP/1.1 GET " + url);
        assertThat(req.ingressRules()).hasSize(1);
        assertThat(req.ingressRules().getFirst().policy().displayName()).contains("api-http-filter");
        assertThat(req.egressRules()).isEmpty();
        assertThat(req.source()).isEqualTo(req.source());
        assertThat(req.destination()).isEqualTo(server.getAddress());
        assertThat(req.ingress()).isTrue();

        assertThat(resp.layer7().getType()).isEqualTo(L7FlowType.RESPONSE);
        assertThat(resp.verdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(resp.layer7().getHttp().getCode()).isEqualTo(200);
        assertThat(resp.layer7().getLatencyNs()).isPositive();
        assertThat(resp.summary()).matches("HTTP/1\\.1 200 \\d+ms \\(GET " + java.util.regex.Pattern.quote(url) + "\\)");
        assertThat(resp.source()).isEqualTo(server.getAddress());
        assertThat(resp.ingressRules()).isEqualTo(req.ingressRules());
    }

    @Test
    void deniedDeleteIsAnsweredLikeEnvoyAndNeverReachesTheServer() throws Exception {
        HttpResponse<String> r = send("DELETE", "/api/users");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).isEqualTo("Access denied");
        assertThat(r.headers().firstValue("content-type")).contains("text/plain");
        assertThat(r.headers().firstValue("content-length")).contains("13");
        assertThat(r.headers().firstValue("date")).isPresent();

        List<L7Event> ev = proxy.await(e -> true, 2, 5000);
        assertThat(ev).hasSize(2);
        assertThat(ev.get(0).verdict()).isEqualTo(Verdict.DROPPED);
        assertThat(ev.get(0).summary()).endsWith("DELETE http://127.0.0.1:" + proxy.port() + "/api/users");
        assertThat(ev.get(0).ingressRules()).isNotEmpty(); // the rule whose L7 rules matched nothing
        assertThat(ev.get(1).verdict()).isEqualTo(Verdict.FORWARDED); // Hubble: http-response FORWARDED (HTTP/1.1 403 ...)
        assertThat(ev.get(1).layer7().getHttp().getCode()).isEqualTo(403);
        // the same connection still serves allowed requests
        assertThat(send("GET", "/api/users").statusCode()).isEqualTo(200);
        assertThat(seen).containsExactly("GET /api/users");
    }

    @Test
    void postSubmitNeedsTheHeaderValueExactly() throws Exception {
        assertThat(send("POST", "/api/submit").statusCode()).isEqualTo(403);
        // Cilium matches header values exactly: the seed's "X-App-Token: .*" wants the literal ".*"
        assertThat(send("POST", "/api/submit", "X-App-Token", "abc").statusCode()).isEqualTo(403);
        assertThat(send("POST", "/api/submit", "X-App-Token", ".*").statusCode()).isEqualTo(200);
        assertThat(send("POST", "/api/other", "X-App-Token", ".*").statusCode()).isEqualTo(403);
        assertThat(seen).containsExactly("POST /api/submit token=.*");
    }

    @Test
    void aRequestPipelinedBehindADeniedOneGetsItsOwnResponseInOrder() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(10000);
            String reqs = "GET /api/one HTTP/1.1\r\nHost: api\r\n\r\n"
                    + "DELETE /api/users HTTP/1.1\r\nHost: api\r\nContent-Length: 5\r\n\r\nhello"
                    + "GET /api/two HTTP/1.1\r\nHost: api\r\n\r\n"
                    + "PUT /x HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                    + "GET /api/three HTTP/1.1\r\nHost: api\r\n\r\n";
            s.getOutputStream().write(reqs.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("ok GET /api/one bytes=0");
            assertThat(readResponse(in)).startsWith("HTTP/1.1 403").endsWith("Access denied");
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("ok GET /api/two bytes=0");
            assertThat(readResponse(in)).startsWith("HTTP/1.1 403").endsWith("Access denied");
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("ok GET /api/three bytes=0");
        }
        assertThat(seen).containsExactly("GET /api/one", "GET /api/two", "GET /api/three");
        List<L7Event> reqs = proxy.await(e -> !e.isResponse(), 5, 5000);
        assertThat(reqs).extracting(L7Event::verdict).containsExactly(Verdict.FORWARDED, Verdict.DROPPED,
                Verdict.FORWARDED, Verdict.DROPPED, Verdict.FORWARDED);
        assertThat(reqs.get(0).layer7().getHttp().getUrl()).isEqualTo("http://api/api/one");
    }

    @Test
    void aRequestSplitAcrossManySegmentsIsReassembled() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10000);
            byte[] req = "POST /api/submit HTTP/1.1\r\nHost: api\r\nX-App-Token: .*\r\nContent-Length: 10\r\n\r\n0123456789"
                    .getBytes(StandardCharsets.US_ASCII);
            OutputStream out = s.getOutputStream();
            for (byte b : req) {
                out.write(b);
                out.flush();
                Thread.sleep(1);
            }
            assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("bytes=10");
        }
    }

    @Test
    void aOneMegabyteChunkedBodyIsStreamedThrough() throws Exception {
        byte[] chunk = new byte[8192];
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + "/api/submit"))
                .header("X-App-Token", ".*")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new InputStream() {
                    long left = 1 << 20;

                    @Override
                    public int read() {
                        return left-- > 0 ? 'x' : -1;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) {
                        if (left <= 0) return -1;
                        int n = (int) Math.min(Math.min(len, chunk.length), left);
                        java.util.Arrays.fill(b, off, off + n, (byte) 'x');
                        left -= n;
                        return n;
                    }
                })).build(); // no length: sent chunked
        HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).endsWith("bytes=1048576");
    }

    @Test
    void aServerThatDoesNotReadStopsTheProxyReadingTheClient() throws Exception {
        // back pressure: the body is streamed, so the proxy holds at most its socket buffers and a write queue
        long total = 256L << 20;
        AtomicLong written = new AtomicLong();
        try (Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(20000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /api/submit HTTP/1.1\r\nHost: api\r\nX-App-Token: .*\r\nX-Stall: 1\r\nContent-Length: " + total + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            Thread writer = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[65536];
                try {
                    while (written.get() < total) {
                        out.write(buf);
                        written.addAndGet(buf.length);
                    }
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            Thread.sleep(1500); // the server sleeps 2.5 s before it reads
            long stalled = written.get();
            assertThat(stalled).as("bytes the client got rid of while the server read nothing").isLessThan(64L << 20);
            assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 200").endsWith("bytes=" + total);
            writer.join(5000);
        }
    }

    @Test
    void expectContinueIsRelayed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(10000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("POST /api/submit HTTP/1.1\r\nHost: api\r\nX-App-Token: .*\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readHead(in)).startsWith("HTTP/1.1 100");
            out.write("abcd".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponse(in)).startsWith("HTTP/1.1 200").endsWith("bytes=4");
            // a denied one is answered at once, without waiting for a body the client holds back
            out.write("PUT /api/submit HTTP/1.1\r\nHost: api\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(readResponse(in)).startsWith("HTTP/1.1 403").endsWith("Access denied");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void inAuditModeADeniedRequestIsForwardedAndReportedAudit() throws Exception {
        Path ex = PlainProxyHarness.examples();
        Path dir = java.nio.file.Files.createTempDirectory("sieve-http-audit-");
        try {
            String cluster = java.nio.file.Files.readString(ex.resolve("cluster/cluster.yaml"));
            String pod = "  name: api-server\n  namespace: production\n";
            assertThat(cluster).contains(pod);
            java.nio.file.Files.writeString(dir.resolve("cluster.yaml"),
                    cluster.replace(pod, pod + "  annotations:\n    policy.sieve.dev/audit-mode: \"true\"\n"));
            ConnectionPolicy audit = PlainProxyHarness.policy(List.of(dir.resolve("cluster.yaml"),
                    ex.resolve("policies/02-api-http-filter.yaml")), "production/api-consumer", "production/api-server", 80);
            try (PlainProxyHarness p = PlainProxyHarness.start(new HttpProxyProtocol(), server.getAddress(), audit)) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.port() + "/api/users"))
                        .DELETE().build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("ok DELETE /api/users bytes=0");
                List<L7Event> ev = p.await(e -> true, 2, 5000);
                assertThat(ev).extracting(L7Event::verdict).containsExactly(Verdict.AUDIT, Verdict.FORWARDED);
                assertThat(ev.get(0).ingressRules()).isNotEmpty();
            }
        } finally {
            try (var files = java.nio.file.Files.list(dir)) {
                for (Path f : files.toList()) java.nio.file.Files.delete(f);
            }
            java.nio.file.Files.delete(dir);
        }
    }

    @Test
    void connectionCloseAndHttp10AreHonoured() throws Exception {
        for (String req : List.of("GET /api/users HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n",
                "GET /api/users HTTP/1.0\r\nHost: api\r\n\r\n",
                "DELETE /api/users HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n")) {
            try (Socket s = new Socket("127.0.0.1", proxy.port())) {
                s.setSoTimeout(10000);
                s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                assertThat(readResponse(in)).as(req).matches("(?s)HTTP/1\\.[01] (200|403).*");
                assertThat(in.read()).as(req).isEqualTo(-1);
            }
        }
    }

    @Test
    void aServerThatIsDownGets503() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (PlainProxyHarness p = PlainProxyHarness.start(new HttpProxyProtocol(), new InetSocketAddress("127.0.0.1", closed), apiFilter("production/api-consumer"));
             Socket s = new Socket("127.0.0.1", p.port())) {
            s.setSoTimeout(10000);
            s.getOutputStream().write("GET /api/users HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readResponse(s.getInputStream())).startsWith("HTTP/1.1 503").endsWith("upstream connect error or disconnect/reset before headers");
        }
    }

    @Test
    void aClientTheL4PolicyDropsIsClosed() throws Exception {
        try (PlainProxyHarness p = PlainProxyHarness.start(new HttpProxyProtocol(), server.getAddress(), apiFilter("production/prod-client"));
             Socket s = new Socket("127.0.0.1", p.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /api/users HTTP/1.1\r\nHost: api\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            int b;
            try {
                b = s.getInputStream().read();
            } catch (java.net.SocketException e) {
                b = -1; // reset
            }
            assertThat(b).isEqualTo(-1);
            assertThat(seen).isEmpty();
        }
    }

    // ---- raw HTTP/1.1 reading ----

    /** Reads one response (head and a Content-Length body) as text. */
    static String readResponse(InputStream in) throws IOException {
        String head = readHead(in);
        int len = 0;
        for (String l : head.split("\r\n")) {
            if (l.toLowerCase().startsWith("content-length:")) len = Integer.parseInt(l.substring(15).trim());
        }
        byte[] body = in.readNBytes(len);
        return head + new String(body, StandardCharsets.UTF_8);
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int c = in.read();
            if (c < 0) throw new IOException("closed after " + b);
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
