package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.store.StoreException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Migration 7: the flows table copied into one sorted by {@link Schema#TIME_KEY} (ClickHouse 18.16
 * cannot change a primary key in place), safe on a populated store:
 *
 * <ol>
 *   <li>{@code flows_v7} is created with flows' columns, whatever they are ({@code CREATE TABLE ... AS}), and the new key;
 *   <li>each day partition of flows is copied ({@code INSERT ... SELECT}, in slices of at most a few million rows).
 *       A partition whose copy holds as many rows as the original is done; one that holds fewer (a copy
 *       interrupted by a crash or a failed request) is dropped from the copy and copied again — so a
 *       restarted migration neither loses nor duplicates a flow;
 *   <li>once every partition's count matches, the tables swap names ({@code flows} → {@code flows_before_v7},
 *       {@code flows_v7} → {@code flows}); the materialized views follow the name {@code flows}, so the
 *       aggregates count the new table's inserts and were never fed by the copy;
 *   <li>{@code flows_before_v7} is dropped.
 * </ol>
 *
 * <p>Each step checks what is there first, so a migration cut anywhere resumes: after the swap (flows
 * already time-keyed) only the old table is dropped; between the two renames ({@code flows} missing) the
 * second is done. The relay that migrates writes no flows until it is done (its writers wait for the
 * migration); another relay must not write the same database meanwhile: its rows in a partition
 * already copied would be dropped with the old table.
 */
final class FlowsTableRebuild {
    private static final System.Logger LOG = System.getLogger(FlowsTableRebuild.class.getName());
    static final String COPY = "flows_v7", OLD = "flows_before_v7";
    /** Rows per INSERT ... SELECT: each is one request, bounded in time. */
    private static final long SLICE_ROWS = 4_000_000;

    private final ClickHouseConnection ch;
    private final String database;

    FlowsTableRebuild(ClickHouseConnection ch, String database) {
        this.ch = ch;
        this.database = database;
    }

    void run() throws StoreException {
        boolean flows = exists("flows"), copy = exists(COPY), old = exists(OLD);
        if (!flows && copy && old) { // cut between the two renames
            ch.exec(ch.sql("RENAME TABLE {db}." + COPY + " TO {db}.flows"));
            flows = true;
            copy = false;
        }
        if (!flows) throw new StoreException("ClickHouse schema: migration 7 finds no flows table in " + database);
        if (!timeKeyed("flows")) {
            if (old) throw new StoreException("ClickHouse schema: migration 7 finds both flows (not yet time-keyed) and " + OLD
                    + " in " + database + "; one of them was made by hand: keep the one with the flows and drop the other");
            ch.exec(ch.sql(Schema.FLOWS_TIME_KEYED));
            copyPartitions();
            ch.exec(ch.sql("RENAME TABLE {db}.flows TO {db}." + OLD + ", {db}." + COPY + " TO {db}.flows"));
            old = true;
        } else if (copy) {
            ch.exec(ch.sql("DROP TABLE IF EXISTS {db}." + COPY)); // left over from a copy whose swap did not happen, and a later one that did
        }
        if (old) ch.exec(ch.sql("DROP TABLE IF EXISTS {db}." + OLD));
    }

    /** Copies every day partition not yet copied whole; checks every partition's count after. */
    private void copyPartitions() throws StoreException {
        Map<String, Long> source = counts("flows"), copied = counts(COPY);
        for (var e : source.entrySet()) {
            String partition = e.getKey();
            long want = e.getValue(), have = copied.getOrDefault(partition, 0L);
            if (have == want) continue;
            if (have > 0) {
                LOG.log(System.Logger.Level.INFO, "ClickHouse schema: partition {0} was copied in part ({1} of {2} rows): copying it again", partition, have, want);
                ch.exec(ch.sql("ALTER TABLE {db}." + COPY + " DROP PARTITION " + Long.parseLong(partition)));
            }
            copyPartition(partition);
        }
        Map<String, Long> after = counts(COPY);
        for (var e : counts("flows").entrySet()) {
            if (!e.getValue().equals(after.getOrDefault(e.getKey(), 0L)))
                throw new StoreException("ClickHouse schema: migration 7 copied " + after.getOrDefault(e.getKey(), 0L) + " of partition " + e.getKey()
                        + "'s " + e.getValue() + " rows; flows was written meanwhile (another relay?): it will be copied again at the next start");
        }
    }

    /** One day's rows, in slices of whole hours of at most {@link #SLICE_ROWS} rows (an hour with more is one slice). */
    private void copyPartition(String partition) throws StoreException {
        long day = Long.parseLong(partition);
        String columns = String.join(", ", columns());
        List<long[]> hours = new ArrayList<>();
        for (String[] r : ch.rows(ch.sql("SELECT toUInt32(toStartOfHour(time)) AS h, count() FROM {db}.flows WHERE toYYYYMMDD(time) = " + day
                + " GROUP BY h ORDER BY h"))) hours.add(new long[] {Long.parseLong(r[0]), Long.parseLong(r[1])});
        for (int i = 0; i < hours.size(); ) {
            long from = hours.get(i)[0], rows = 0;
            int j = i;
            while (j < hours.size() && (j == i || rows + hours.get(j)[1] <= SLICE_ROWS)) rows += hours.get(j++)[1];
            long to = j < hours.size() ? hours.get(j)[0] : -1;
            ch.exec(ch.sql("INSERT INTO {db}." + COPY + " (" + columns + ") SELECT " + columns + " FROM {db}.flows WHERE toYYYYMMDD(time) = " + day
                    + " AND time >= toDateTime(" + from + ")" + (to < 0 ? "" : " AND time < toDateTime(" + to + ")")));
            i = j;
        }
        LOG.log(System.Logger.Level.INFO, "ClickHouse schema: partition {0} copied", partition);
    }

    private List<String> columns() throws StoreException {
        List<String> out = new ArrayList<>();
        for (String[] r : ch.rows("SELECT name FROM system.columns WHERE database = " + Sql.str(database) + " AND table = 'flows'"))
            out.add(Sql.ident(r[0]));
        return out;
    }

    /** Rows per day partition (active parts). */
    private Map<String, Long> counts(String table) throws StoreException {
        Map<String, Long> out = new HashMap<>();
        for (String[] r : ch.rows("SELECT partition, sum(rows) FROM system.parts WHERE database = " + Sql.str(database) + " AND table = " + Sql.str(table)
                + " AND active GROUP BY partition")) out.put(r[0], Long.parseLong(r[1]));
        return out;
    }

    private boolean exists(String table) throws StoreException {
        return !ch.rows("SELECT name FROM system.tables WHERE database = " + Sql.str(database) + " AND name = " + Sql.str(table)).isEmpty();
    }

    private boolean timeKeyed(String table) throws StoreException {
        var r = ch.rows("SELECT sorting_key FROM system.tables WHERE database = " + Sql.str(database) + " AND name = " + Sql.str(table));
        return !r.isEmpty() && r.getFirst()[0].replace(" ", "").equals(Schema.TIME_KEY.replace(" ", ""));
    }
}
