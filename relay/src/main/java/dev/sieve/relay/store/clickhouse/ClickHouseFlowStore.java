package dev.sieve.relay.store.clickhouse;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Flows in ClickHouse, one concern per class: {@link Migrations} (schema, {@link Schema}; retention),
 * {@link ClickHouseConnection} (queries and health) and {@link InsertTransport} (bulk inserts over
 * HTTP), {@link FlowWriters} (writer threads, group commits, ingest marks, exactly-once after failed
 * inserts), {@link FlowRowEncoder} (a flow's row from its {@link dev.sieve.relay.store.FlowColumns}),
 * {@link FlowReads} and {@link FlowSql} (queries and aggregates), {@link LabelSets}.
 */
public final class ClickHouseFlowStore implements FlowStore {
    public record Config(String url, String database, String user, String password, int retentionDays,
                                              Duration flushInterval, int maxGroupRows, int writers) {
        public Config {
            Sql.ident(database);
            if (retentionDays < 1) throw new IllegalArgumentException("retention-days must be >= 1, got " + retentionDays);
            if (writers < 1) throw new IllegalArgumentException("writers must be >= 1, got " + writers);
        }

        public Config(String url, String database, String user, String password, int retentionDays,
                                    Duration flushInterval, int maxGroupRows) {
            this(url, database, user, password, retentionDays, flushInterval, maxGroupRows, DEFAULT_WRITERS);
        }

        public static Config of(String url, String database, String user, String password, int retentionDays) {
            return new Config(url, database, user, password, retentionDays, Duration.ofSeconds(1), DEFAULT_MAX_GROUP_ROWS);
        }
    }

    /** Most rows in one INSERT. */
    public static final int DEFAULT_MAX_GROUP_ROWS = 200_000;

    /** Concurrent INSERTs by default: two keep both cores of a small server busy. */
    public static final int DEFAULT_WRITERS = 2;

    private final Config cfg;
    private final ClickHouseConnection ch;
    private final Migrations migrations;
    private final FlowWriters writers;
    private final FlowReads reads;
    private volatile boolean closed;

    public ClickHouseFlowStore(Config cfg) {
        this.cfg = cfg;
        this.ch = new ClickHouseConnection(cfg.url(), cfg.database(), cfg.user(), cfg.password());
        this.migrations = new Migrations(ch, cfg.database());
        LabelSets labelSets = new LabelSets(ch);
        this.writers = new FlowWriters(ch, new InsertTransport(ch, cfg.url(), cfg.user(), cfg.password()), migrations, labelSets,
                cfg.flushInterval(), cfg.maxGroupRows(), cfg.writers());
        this.reads = new FlowReads(ch, cfg.database(), labelSets);
    }

    public Config config() {
        return cfg;
    }

    @Override
    public String kind() {
        return "clickhouse";
    }

    @Override
    public long capacity() {
        return 0;
    }

    @Override
    public boolean ready() {
        if (closed) return false;
        if (migrations.migratedTo() == 0) {
            try {
                migrate();
            } catch (StoreException e) {
                return false;
            }
        }
        return ch.healthy() || ch.ping();
    }

    public long errors() {
        return ch.errors();
    }

    /** Creates the database and applies every migration not yet recorded; idempotent. */
    public int migrate() throws StoreException {
        return migrations.migrate(Integer.MAX_VALUE);
    }

    /** Applies migrations up to {@code target} (tests use this to build an old schema). */
    public int migrate(int target) throws StoreException {
        return migrations.migrate(target);
    }

    /** Versions recorded in schema_migrations, ascending. */
    public List<Integer> appliedMigrations() throws StoreException {
        return migrations.applied();
    }

    @Override
    public CompletableFuture<Mark> appendAsync(Batch batch) {
        return writers.append(batch);
    }

    @Override
    public Mark mark(StreamKey key) throws StoreException {
        return writers.mark(key);
    }

    @Override
    public Mark reloadMark(StreamKey key) throws StoreException {
        return writers.reloadMark(key);
    }

    @Override
    public void notStored(StreamKey key, long sequence) {
        writers.notStored(key, sequence);
    }

    @Override
    public void query(FlowQuery q, Consumer<Flow> sink) throws StoreException {
        reads.query(q, sink);
    }

    @Override
    public long size() throws StoreException {
        return reads.size();
    }

    @Override
    public List<Aggregates.Bucket> counts(Instant since, Instant until, Duration bucket, String namespace) throws StoreException {
        return reads.counts(since, until, bucket, namespace);
    }

    @Override
    public List<Aggregates.Edge> serviceMap(Instant since, Instant until, String namespace) throws StoreException {
        return reads.serviceMap(since, until, namespace);
    }

    @Override
    public List<Aggregates.PolicyUse> policies(Instant since, Instant until) throws StoreException {
        return reads.policies(since, until);
    }

    /** Drops every day partition older than the retention (whole days, UTC) from every partitioned table. */
    @Override
    public List<String> enforceRetention(Instant now) throws StoreException {
        return migrations.enforceRetention(now, cfg.retentionDays());
    }

    /** Encodes a batch's rows as {@link #appendAsync} does, on this thread; returns the bytes written (benchmarks). */
    public static long encodeForBenchmark(dev.sieve.relay.store.EncodedBatch flows) {
        RowBinary.Out o = new RowBinary.Out(flows.size() * 448);
        dev.sieve.relay.store.FlowColumns reader = new dev.sieve.relay.store.FlowColumns();
        StreamKey k = new StreamKey("bench", "bench");
        long[] ids = new long[2];
        for (int i = 0; i < flows.size(); i++) FlowRowEncoder.encode(o, flows.columns(i, reader, false), k, 1, i + 1, Schema.LATEST_VERSION, ids);
        return o.len;
    }

    @Override
    public void close() {
        closed = true;
        writers.close();
        ch.close();
    }
}
