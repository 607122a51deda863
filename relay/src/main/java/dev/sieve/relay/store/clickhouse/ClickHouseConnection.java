package dev.sieve.relay.store.clickhouse;

import com.clickhouse.client.api.Client;
import com.clickhouse.client.api.query.QueryResponse;
import com.clickhouse.client.api.query.QuerySettings;
import com.clickhouse.data.ClickHouseFormat;
import dev.sieve.relay.store.StoreException;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Statements and queries to one ClickHouse database over HTTP (client-v2), and the health the store
 * reports: every failure counts as an error and marks the server unhealthy until a query succeeds.
 * {@link #sql} puts the database into a template (before any user value is added to it). Bulk
 * inserts go through {@link InsertTransport}.
 */
final class ClickHouseConnection implements AutoCloseable {
    private final Client client;
    private final String db;
    private final AtomicLong errors = new AtomicLong();
    private volatile boolean healthy;

    ClickHouseConnection(String url, String database, String user, String password) {
        this.db = Sql.ident(database);
        this.client = new Client.Builder()
                .addEndpoint(url)
                .setUsername(user)
                .setPassword(password == null ? "" : password)
                .compressServerResponse(false)
                .compressClientRequest(false)
                .useHttpCompression(false)
                .setConnectTimeout(5, ChronoUnit.SECONDS)
                .setSocketTimeout(120, ChronoUnit.SECONDS)
                .build();
    }

    /** The database, validated as an identifier. */
    String db() {
        return db;
    }

    String sql(String template) {
        return template.replace("{db}", db);
    }

    long errors() {
        return errors.get();
    }

    boolean healthy() {
        return healthy;
    }

    void healthy(boolean h) {
        healthy = h;
    }

    boolean ping() {
        return client.ping(2000);
    }

    /** A failure talking to ClickHouse: counted, the server marked unhealthy, as a StoreException. */
    StoreException failed(String what, Throwable e) {
        errors.incrementAndGet();
        healthy = false;
        return new StoreException(what + ": " + rootMessage(e), e);
    }

    void exec(String statement) throws StoreException {
        try {
            client.execute(statement).get(120, TimeUnit.SECONDS).close();
        } catch (Exception e) {
            throw failed("ClickHouse", e);
        }
    }

    /** Runs a query and returns its TabSeparated rows, split into fields (values unescaped). */
    List<String[]> rows(String query) throws StoreException {
        try (QueryResponse r = client.query(query + " FORMAT TabSeparated", new QuerySettings().setFormat(ClickHouseFormat.TabSeparated)).get(120, TimeUnit.SECONDS);
                  BufferedReader in = new BufferedReader(new InputStreamReader(r.getInputStream(), StandardCharsets.UTF_8))) {
            List<String[]> out = new ArrayList<>();
            for (String line; (line = in.readLine()) != null; ) {
                String[] f = line.split("\t", -1);
                for (int i = 0; i < f.length; i++) f[i] = unescapeTsv(f[i]);
                out.add(f);
            }
            healthy = true;
            return out;
        } catch (Exception e) {
            throw failed("ClickHouse", e);
        }
    }

    /** Reads RowBinary rows of a query until the reader returns false or the rows end. */
    interface RowReader {
        /** Reads one row, whose first byte is {@code first}; false stops. */
        boolean row(RowBinary.In in, int first) throws IOException;
    }

    void read(String query, RowReader reader) throws StoreException {
        try (QueryResponse r = client.query(query + " FORMAT RowBinary", new QuerySettings().setFormat(ClickHouseFormat.RowBinary)).get(120, TimeUnit.SECONDS)) {
            RowBinary.In in = new RowBinary.In(new BufferedInputStream(r.getInputStream(), 1 << 16));
            for (int b; (b = in.firstByteOrEnd()) >= 0; ) if (!reader.row(in, b)) break;
            healthy = true;
        } catch (Exception e) {
            throw failed("ClickHouse", e);
        }
    }

    private static String unescapeTsv(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(switch (n) { case 't' -> '\t'; case 'n' -> '\n'; case 'r' -> '\r'; case '0' -> '\0'; default -> n; });
            } else b.append(c);
        }
        return b.toString();
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
    }

    @Override
    public void close() {
        client.close();
    }
}
