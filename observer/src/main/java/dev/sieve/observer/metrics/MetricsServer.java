package dev.sieve.observer.metrics;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** Serves {@link FlowMetrics} at {@code /metrics} (Prometheus text format); default address 127.0.0.1:9965. */
public final class MetricsServer implements AutoCloseable {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 9965;

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /** Starts serving on {@code address} (port 0 picks a free port). */
    public static MetricsServer start(InetSocketAddress address, FlowMetrics metrics) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                StringBuilder sb = new StringBuilder(4096);
                metrics.write(sb);
                byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, exchange.getRequestMethod().equals("HEAD") ? -1 : body.length);
                if (!exchange.getRequestMethod().equals("HEAD")) {
                    try (OutputStream os = exchange.getResponseBody()) {
                        os.write(body);
                    }
                }
            }
        });
        server.setExecutor(null);
        server.start();
        return new MetricsServer(server);
    }

    /** Serves {@code body()} as JSON at {@code path} (GET), e.g. the agent's FQDN cache for {@code sieve fqdn cache list}. */
    public void serveJson(String path, java.util.function.Supplier<String> body) {
        server.createContext(path, exchange -> {
            try (exchange) {
                if (!exchange.getRequestMethod().equals("GET")) {
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] out;
                int status = 200;
                try {
                    out = body.get().getBytes(StandardCharsets.UTF_8);
                } catch (RuntimeException e) {
                    status = 503;
                    out = ("{\"error\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}").getBytes(StandardCharsets.UTF_8);
                }
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(status, out.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            }
        });
    }

    /** The bound address (with the real port when started on port 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
