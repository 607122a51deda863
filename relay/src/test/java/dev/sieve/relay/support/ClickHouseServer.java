package dev.sieve.relay.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real clickhouse-server (the Debian package, 18.16 here) on free ports with its data in a
 * temporary folder; stopped and deleted after the test class, also on failure (JUnit callback,
 * plus a JVM shutdown hook for aborted runs). Can be stopped and restarted on the same ports and
 * data for fault tests. Usable outside JUnit (benchmarks): {@link #start()} / {@link #close()}.
 */
public final class ClickHouseServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    private Path dir;
    private int httpPort, tcpPort;
    private Process process;
    private Thread hook;

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    public int httpPort() {
        return httpPort;
    }

    /** The server's process id (benchmarks read its CPU time from /proc). */
    public long pid() {
        return process.pid();
    }

    public synchronized ClickHouseServer start() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("sieve-clickhouse-");
            httpPort = freePort();
            tcpPort = freePort();
            Files.writeString(dir.resolve("config.xml"), """
                <yandex>
                  <logger><level>warning</level><log>%1$s/log/server.log</log><errorlog>%1$s/log/error.log</errorlog><console>0</console></logger>
                  <http_port>%2$d</http_port>
                  <tcp_port>%3$d</tcp_port>
                  <listen_host>127.0.0.1</listen_host>
                  <path>%1$s/data/</path>
                  <tmp_path>%1$s/tmp/</tmp_path>
                  <user_files_path>%1$s/user_files/</user_files_path>
                  <format_schema_path>%1$s/format_schemas/</format_schema_path>
                  <users_config>%1$s/users.xml</users_config>
                  <default_profile>default</default_profile>
                  <default_database>default</default_database>
                  <timezone>UTC</timezone>
                  <mark_cache_size>268435456</mark_cache_size>
                  <max_concurrent_queries>100</max_concurrent_queries>
                </yandex>
                """.formatted(dir, httpPort, tcpPort));
            Files.writeString(dir.resolve("users.xml"), """
                <yandex>
                  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
                  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
                  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
                </yandex>
                """);
            Files.createDirectories(dir.resolve("log"));
            hook = new Thread(this::close, "clickhouse-cleanup");
            Runtime.getRuntime().addShutdownHook(hook);
        }
        if (process != null && process.isAlive()) return this;
        process = new ProcessBuilder("clickhouse-server", "--config-file=" + dir.resolve("config.xml"))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("log/stdout.log").toFile())
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        HttpClient http = HttpClient.newHttpClient();
        while (true) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(url() + "/ping")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return this;
            } catch (IOException e) {
                // not up yet
            }
            if (!process.isAlive()) throw new IllegalStateException("clickhouse-server exited: " + Files.readString(dir.resolve("log/stdout.log")) + tail("log/error.log"));
            if (System.nanoTime() > deadline) throw new IllegalStateException("clickhouse-server did not start in 60 s" + tail("log/error.log"));
            Thread.sleep(100);
        }
    }

    private String tail(String f) {
        try {
            String s = Files.readString(dir.resolve(f));
            return "\n" + s.substring(Math.max(0, s.length() - 2000));
        } catch (IOException e) {
            return "";
        }
    }

    /** Kills the server (SIGKILL), keeping its data. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
            process = null;
        }
    }

    /** Runs one SQL statement over HTTP (test assertions), returns the body. */
    public String sql(String statement) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        var r = http.send(HttpRequest.newBuilder(URI.create(url() + "/")).POST(HttpRequest.BodyPublishers.ofString(statement)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("ClickHouse " + r.statusCode() + ": " + r.body());
        return r.body();
    }

    @Override
    public synchronized void close() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // best effort
            }
            dir = null;
        }
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down
            }
            hook = null;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }
}
