package dev.sieve.relay.store.clickhouse;

import java.util.List;

/**
 * The relay's ClickHouse schema as numbered migrations. Each runs once, in order, and is then
 * recorded in {@code schema_migrations}. SQL here runs on ClickHouse 18.16 and current releases:
 * no DateTime64, TTL, LowCardinality or Map; time is DateTime('UTC') plus a nanos column.
 */
public final class Schema {
    private Schema() {}

    /**
     * A migration: SQL statements, run in order; {@code rebuildsFlows} then copies the flows table into
     * one with the newest sort key ({@link FlowsTableRebuild}).
     */
    public record Migration(int version, String name, List<String> statements, boolean rebuildsFlows) {
        public Migration(int version, String name, List<String> statements) {
            this(version, name, statements, false);
        }
    }

    /** The columns of a flows row as the relay inserts it (RowBinary, in this order). */
    public static final String FLOW_COLUMNS_V1 =
            "time, nanos, verdict, drop_reason, direction, protocol, src_namespace, src_pod, src_workload, src_identity, "
                    + "dst_namespace, dst_pod, dst_workload, dst_identity, src_ip, dst_ip, src_port, dst_port, node_name, epoch, "
                    + "batch_seq, flow_seq, uuid, policies, flow";
    /** From migration 4 on: endpoint labels by reference to {@code label_sets}. */
    public static final String FLOW_COLUMNS = FLOW_COLUMNS_V1 + ", src_labels, dst_labels";
    /** The first schema version whose flows table has {@code src_labels} and {@code dst_labels}. */
    public static final int LABEL_SETS_VERSION = 4;
    /** From migration 6 on: what the DNS and HTTP dashboards read of a flow's Layer7 record. */
    public static final String L7_COLUMNS =
            "l7_record, l7_type, l7_latency_ns, dns_query, dns_rcode, dns_qtypes, dns_ips, http_method, http_status, http_url";
    /** From migration 8 on: what the Kafka dashboard reads. */
    public static final String KAFKA_COLUMNS = "kafka_api_key, kafka_topic, kafka_error_code";

    /** The columns of a flows row as the relay inserts it into a table of schema {@code version} (RowBinary, in this order). */
    public static String flowColumns(int version) {
        if (version < LABEL_SETS_VERSION) return FLOW_COLUMNS_V1;
        if (version < L7_COLUMNS_VERSION) return FLOW_COLUMNS;
        if (version < KAFKA_COLUMNS_VERSION) return FLOW_COLUMNS + ", " + L7_COLUMNS;
        return FLOW_COLUMNS + ", " + L7_COLUMNS + ", " + KAFKA_COLUMNS;
    }

    /** {db} is replaced by the quoted database name. */
    public static List<Migration> migrations() {
        return List.of(
                new Migration(1, "flows and ingest marks", List.of(
                        """
                        CREATE TABLE IF NOT EXISTS {db}.flows (
                          time DateTime('UTC'),
                          nanos UInt32,
                          verdict UInt8,
                          drop_reason UInt16,
                          direction UInt8,
                          protocol UInt8,
                          src_namespace String,
                          src_pod String,
                          src_workload String,
                          src_identity UInt32,
                          dst_namespace String,
                          dst_pod String,
                          dst_workload String,
                          dst_identity UInt32,
                          src_ip String,
                          dst_ip String,
                          src_port UInt16,
                          dst_port UInt16,
                          node_name String,
                          epoch String,
                          batch_seq UInt64,
                          flow_seq UInt64,
                          uuid String,
                          policies Array(String),
                          flow String
                        ) ENGINE = MergeTree
                        PARTITION BY toYYYYMMDD(time)
                        ORDER BY (toStartOfHour(time), verdict, src_namespace, src_pod, dst_namespace, dst_pod, time)
                        SETTINGS index_granularity = 8192""",
                        """
                        CREATE TABLE IF NOT EXISTS {db}.ingest_marks (
                          node_name String,
                          epoch String,
                          sequence UInt64,
                          flow_seq UInt64,
                          stored_at DateTime('UTC')
                        ) ENGINE = ReplacingMergeTree
                        PARTITION BY toYYYYMMDD(stored_at)
                        ORDER BY (node_name, epoch, sequence)""")),
                new Migration(2, "per-minute flow aggregates (materialized view) with backfill", List.of(
                        """
                        CREATE TABLE IF NOT EXISTS {db}.flow_minutes (
                          minute DateTime('UTC'),
                          verdict UInt8,
                          drop_reason UInt16,
                          src_namespace String,
                          src_workload String,
                          dst_namespace String,
                          dst_workload String,
                          flows UInt64
                        ) ENGINE = SummingMergeTree
                        PARTITION BY toYYYYMMDD(minute)
                        ORDER BY (minute, verdict, drop_reason, src_namespace, src_workload, dst_namespace, dst_workload)""",
                        """
                        CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.flow_minutes_mv TO {db}.flow_minutes AS
                        SELECT toStartOfMinute(time) AS minute, verdict, drop_reason, src_namespace, src_workload, dst_namespace,
                               dst_workload, count() AS flows
                        FROM {db}.flows
                        GROUP BY minute, verdict, drop_reason, src_namespace, src_workload, dst_namespace, dst_workload""",
                        """
                        INSERT INTO {db}.flow_minutes
                        SELECT toStartOfMinute(time) AS minute, verdict, drop_reason, src_namespace, src_workload, dst_namespace,
                               dst_workload, count() AS flows
                        FROM {db}.flows
                        GROUP BY minute, verdict, drop_reason, src_namespace, src_workload, dst_namespace, dst_workload""")),
                new Migration(3, "per-minute policy aggregates (materialized view) with backfill", List.of(
                        """
                        CREATE TABLE IF NOT EXISTS {db}.policy_minutes (
                          minute DateTime('UTC'),
                          policy String,
                          verdict UInt8,
                          flows UInt64
                        ) ENGINE = SummingMergeTree
                        PARTITION BY toYYYYMMDD(minute)
                        ORDER BY (minute, policy, verdict)""",
                        """
                        CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.policy_minutes_mv TO {db}.policy_minutes AS
                        SELECT toStartOfMinute(time) AS minute, policy, verdict, count() AS flows
                        FROM {db}.flows ARRAY JOIN policies AS policy
                        GROUP BY minute, policy, verdict""",
                        """
                        INSERT INTO {db}.policy_minutes
                        SELECT toStartOfMinute(time) AS minute, policy, verdict, count() AS flows
                        FROM {db}.flows ARRAY JOIN policies AS policy
                        GROUP BY minute, policy, verdict""")),
                // Labels are a property of the endpoint, not of each packet: rows refer to a set stored
                // once. Older rows keep their labels inside the flow column and read back unchanged.
                new Migration(LABEL_SETS_VERSION, "endpoint label sets stored once, referenced by id", List.of(
                        """
                        CREATE TABLE IF NOT EXISTS {db}.label_sets (
                          id UInt64,
                          labels Array(String)
                        ) ENGINE = ReplacingMergeTree
                        ORDER BY id""",
                        "ALTER TABLE {db}.flows ADD COLUMN src_labels UInt64 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN dst_labels UInt64 DEFAULT 0")),
                // The dashboards' per-node panels (dashboards/): flow_minutes has no node.
                new Migration(NODE_MINUTES_VERSION, "per-minute node aggregates (materialized view) with backfill", List.of(
                        """
                        CREATE TABLE IF NOT EXISTS {db}.node_minutes (
                          minute DateTime('UTC'),
                          node_name String,
                          verdict UInt8,
                          drop_reason UInt16,
                          flows UInt64
                        ) ENGINE = SummingMergeTree
                        PARTITION BY toYYYYMMDD(minute)
                        ORDER BY (minute, node_name, verdict, drop_reason)""",
                        """
                        CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.node_minutes_mv TO {db}.node_minutes AS
                        SELECT toStartOfMinute(time) AS minute, node_name, verdict, drop_reason, count() AS flows
                        FROM {db}.flows
                        GROUP BY minute, node_name, verdict, drop_reason""",
                        """
                        INSERT INTO {db}.node_minutes
                        SELECT toStartOfMinute(time) AS minute, node_name, verdict, drop_reason, count() AS flows
                        FROM {db}.flows
                        GROUP BY minute, node_name, verdict, drop_reason""")),
                // What the DNS and HTTP dashboards read of an L7 flow (Hubble's Layer7 record). Rows written
                // without them (L4 flows, and every row until the writer fills them) keep the defaults.
                new Migration(L7_COLUMNS_VERSION, "L7 columns: record kind, DNS query/rcode/qtypes/IPs, HTTP method/status/url, latency", List.of(
                        "ALTER TABLE {db}.flows ADD COLUMN l7_record UInt8 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN l7_type UInt8 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN l7_latency_ns UInt64 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN dns_query String DEFAULT ''",
                        "ALTER TABLE {db}.flows ADD COLUMN dns_rcode UInt16 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN dns_qtypes Array(String) DEFAULT emptyArrayString()",
                        "ALTER TABLE {db}.flows ADD COLUMN dns_ips Array(String) DEFAULT emptyArrayString()",
                        "ALTER TABLE {db}.flows ADD COLUMN http_method String DEFAULT ''",
                        "ALTER TABLE {db}.flows ADD COLUMN http_status UInt16 DEFAULT 0",
                        "ALTER TABLE {db}.flows ADD COLUMN http_url String DEFAULT ''")),
                // Reads are by time (a window, the newest N): the key that serves them starts with the time.
                // ClickHouse cannot change a primary key in place, so the table is copied (FlowsTableRebuild).
                new Migration(TIME_KEY_VERSION, "flows sorted by time first (table copied partition by partition)", List.of(), true),
                // The L7 dashboards (dashboards/): what they read of a Kafka record (Hubble's Layer7.kafka), and
                // the L7 flows apart from the rest, by record kind first — in flows they lie in every granule, so
                // an L7 panel read the string columns of every flow. Numbered 8: 7 is the time-first table key.
                new Migration(KAFKA_COLUMNS_VERSION, "Kafka columns; l7_flows: the L7 flows' dashboard columns by record kind (materialized view) with backfill", List.of(
                        "ALTER TABLE {db}.flows ADD COLUMN kafka_api_key String DEFAULT ''",
                        "ALTER TABLE {db}.flows ADD COLUMN kafka_topic String DEFAULT ''",
                        "ALTER TABLE {db}.flows ADD COLUMN kafka_error_code Int32 DEFAULT 0",
                        """
                        CREATE TABLE IF NOT EXISTS {db}.l7_flows (
                          time DateTime('UTC'),
                          l7_record UInt8,
                          l7_type UInt8,
                          verdict UInt8,
                          node_name String,
                          src_namespace String,
                          src_workload String,
                          dst_namespace String,
                          dst_workload String,
                          l7_latency_ns UInt64,
                          dns_query String,
                          dns_rcode UInt16,
                          dns_qtypes Array(String),
                          dns_ips Array(String),
                          http_method String,
                          http_status UInt16,
                          http_url String,
                          kafka_api_key String,
                          kafka_topic String,
                          kafka_error_code Int32
                        ) ENGINE = MergeTree
                        PARTITION BY toYYYYMMDD(time)
                        ORDER BY (l7_record, toStartOfHour(time), l7_type, src_namespace, src_workload, time)""",
                        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.l7_flows_mv TO {db}.l7_flows AS SELECT " + L7_FLOWS_COLUMNS
                                + " FROM {db}.flows WHERE l7_record != 0",
                        "INSERT INTO {db}.l7_flows SELECT " + L7_FLOWS_COLUMNS + " FROM {db}.flows WHERE l7_record != 0")));
    }

    /**
     * From this version on the flows table is sorted by {@link #TIME_KEY}: a time window is a range of
     * the primary key, and the newest rows are the last granules.
     */
    public static final int TIME_KEY_VERSION = 7;
    /** The flows table's ORDER BY (and primary key) from {@link #TIME_KEY_VERSION} on. */
    public static final String TIME_KEY = "time, nanos";
    /** The table migration 7 copies the flows into: flows' columns (whatever they are), the time-first key. */
    static final String FLOWS_TIME_KEYED = "CREATE TABLE IF NOT EXISTS {db}.flows_v7 AS {db}.flows ENGINE = MergeTree "
            + "PARTITION BY toYYYYMMDD(time) ORDER BY (" + TIME_KEY + ") SETTINGS index_granularity = 8192";

    public static final int NODE_MINUTES_VERSION = 5;
    /**
     * From this version on, flows has L7 columns: {@code l7_record} (0 none, 1 DNS, 2 HTTP, 3 Kafka),
     * {@code l7_type} (flow.L7FlowType: 1 request, 2 response, 3 sample), {@code l7_latency_ns},
     * {@code dns_query}, {@code dns_rcode}, {@code dns_qtypes}, {@code dns_ips}, {@code http_method},
     * {@code http_status}, {@code http_url}, filled from the flow's Layer7 record.
     */
    public static final int L7_COLUMNS_VERSION = 6;
    /**
     * From this version on, flows has {@code kafka_api_key}, {@code kafka_topic}, {@code kafka_error_code}, and
     * {@code l7_flows} holds the L7 flows' dashboard columns (ordered by record kind, then hour).
     */
    public static final int KAFKA_COLUMNS_VERSION = 8;
    /** The newest schema version. */
    public static final int LATEST_VERSION = KAFKA_COLUMNS_VERSION;

    private static final String L7_FLOWS_COLUMNS = "time, l7_record, l7_type, verdict, node_name, src_namespace, src_workload, dst_namespace, "
            + "dst_workload, l7_latency_ns, dns_query, dns_rcode, dns_qtypes, dns_ips, http_method, http_status, http_url, kafka_api_key, kafka_topic, "
            + "kafka_error_code";

    /** Tables whose day partitions retention drops. */
    public static final List<String> PARTITIONED_TABLES = List.of("flows", "flow_minutes", "policy_minutes", "node_minutes", "l7_flows", "ingest_marks");

    static final String MIGRATIONS_TABLE = """
        CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
          version UInt32,
          name String,
          applied_at DateTime('UTC')
        ) ENGINE = MergeTree ORDER BY version""";
}
