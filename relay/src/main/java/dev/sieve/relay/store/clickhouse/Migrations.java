package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.store.StoreException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Applies {@link Schema}'s migrations that {@code schema_migrations} does not record yet, and drops
 * whole day partitions past the retention (no TTL on 18.16).
 */
final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());
    private static final Pattern ADD_COLUMN = Pattern.compile("ALTER TABLE \\{db}\\.(\\w+) ADD COLUMN (\\w+) .*");

    private final ClickHouseConnection ch;
    private final String database;
    private volatile int migratedTo;

    Migrations(ClickHouseConnection ch, String database) {
        this.ch = ch;
        this.database = database;
    }

    /** The schema version reached by the last migration (0 = not migrated yet). */
    int migratedTo() {
        return migratedTo;
    }

    /** Creates the database and applies migrations up to {@code target}; idempotent. */
    synchronized int migrate(int target) throws StoreException {
        ch.exec("CREATE DATABASE IF NOT EXISTS " + ch.db());
        ch.exec(ch.sql(Schema.MIGRATIONS_TABLE));
        Set<Integer> applied = new HashSet<>();
        for (String[] r : ch.rows(ch.sql("SELECT version FROM {db}.schema_migrations"))) applied.add(Integer.parseInt(r[0]));
        int current = applied.stream().mapToInt(Integer::intValue).max().orElse(0);
        for (Schema.Migration m : Schema.migrations()) {
            if (m.version() > target || applied.contains(m.version())) continue;
            LOG.log(System.Logger.Level.INFO, "ClickHouse schema: applying migration {0} ({1})", m.version(), m.name());
            for (String st : m.statements()) {
                if (!columnAdded(st)) ch.exec(ch.sql(st));
            }
            if (m.rebuildsFlows()) new FlowsTableRebuild(ch, database).run();
            ch.exec(ch.sql("INSERT INTO {db}.schema_migrations (version, name, applied_at) VALUES (" + m.version() + ", ")
                    + Sql.str(m.name()) + ", now())");
            current = Math.max(current, m.version());
        }
        migratedTo = current;
        ch.healthy(true);
        return current;
    }

    /**
     * Whether a statement adds a column that is already there (18.16 has no ADD COLUMN IF NOT EXISTS):
     * a schema created by hand for a cluster, or a migration interrupted after its ALTER.
     */
    private boolean columnAdded(String statement) throws StoreException {
        var m = ADD_COLUMN.matcher(statement);
        if (!m.matches()) return false;
        return !ch.rows("SELECT name FROM system.columns WHERE database = " + Sql.str(database) + " AND table = " + Sql.str(m.group(1))
                + " AND name = " + Sql.str(m.group(2))).isEmpty();
    }

    /** Versions recorded in schema_migrations, ascending. */
    List<Integer> applied() throws StoreException {
        return ch.rows(ch.sql("SELECT version FROM {db}.schema_migrations ORDER BY version")).stream().map(r -> Integer.parseInt(r[0])).toList();
    }

    /** Drops every day partition older than {@code retentionDays} (whole days, UTC) from every partitioned table. */
    List<String> enforceRetention(Instant now, int retentionDays) throws StoreException {
        int cutoff = Integer.parseInt(LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(retentionDays - 1L).format(DateTimeFormatter.BASIC_ISO_DATE));
        List<String> dropped = new ArrayList<>();
        for (String[] r : ch.rows("SELECT DISTINCT table, partition FROM system.parts WHERE database = " + Sql.str(database)
                + " AND table IN " + Sql.strList(Schema.PARTITIONED_TABLES) + " AND active ORDER BY table, partition")) {
            String table = r[0], partition = r[1];
            if (!partition.matches("\\d{8}")) continue;
            if (Integer.parseInt(partition) < cutoff) {
                ch.exec(ch.sql("ALTER TABLE {db}.") + Sql.ident(table) + " DROP PARTITION " + Integer.parseInt(partition));
                dropped.add(table + "/" + partition);
            }
        }
        return dropped;
    }
}
