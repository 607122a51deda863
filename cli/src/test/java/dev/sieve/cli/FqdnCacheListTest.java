package dev.sieve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code sieve fqdn cache list} against an HTTP server answering as the agent's {@code /v1/fqdn/cache} does. */
class FqdnCacheListTest {

    static final String CACHE = "[{\"endpoint\":\"10.244.3.10\",\"pod\":\"data-pipeline/uploader\",\"fqdn\":\"s3.amazonaws.com\",\"ip\":\"198.51.100.20\","
            + "\"ttl\":27,\"expiration\":\"2026-12-07T18:00:00Z\",\"source\":\"lookup\"},"
            + "{\"endpoint\":\"10.244.3.10\",\"pod\":\"data-pipeline/uploader\",\"fqdn\":\"api.example.com\",\"ip\":\"198.51.100.22\","
            + "\"ttl\":0,\"expiration\":\"2026-12-07T17:00:00Z\",\"source\":\"connection\"}]";

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void listsTheAgentsCacheAsATableAndFilters() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        server.createContext("/v1/fqdn/cache", ex -> {
            byte[] b = CACHE.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try {
            String agent = "127.0.0.1:" + server.getAddress().getPort();
            Run all = run("fqdn", "cache", "list", "--agent", agent);
            assertThat(all.code).as(all.err).isZero();
            assertThat(all.out.lines().toList()).hasSize(3);
            assertThat(all.out.lines().findFirst().orElseThrow()).startsWith("Endpoint").contains("FQDN").contains("TTL").contains("Source");
            assertThat(all.out).contains("s3.amazonaws.com").contains("198.51.100.20").contains("connection");
            Run s3 = run("fqdn", "cache", "list", "--agent", agent, "--matchpattern", "*.amazonaws.com");
            assertThat(s3.out).contains("s3.amazonaws.com").doesNotContain("api.example.com");
            Run json = run("fqdn", "cache", "list", "--agent", agent, "-e", "data-pipeline/uploader", "-o", "json");
            assertThat(json.out).contains("\"fqdn\" : \"api.example.com\"");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anAgentThatIsNotThereIsAClearError() {
        Run r = run("fqdn", "cache", "list", "--agent", "127.0.0.1:1");
        assertThat(r.code).isEqualTo(1);
        assertThat(r.err).contains("cannot reach the agent at 127.0.0.1:1");
        assertThat(run("fqdn", "cache", "list", "-o", "yaml").code).isEqualTo(2);
    }
}
