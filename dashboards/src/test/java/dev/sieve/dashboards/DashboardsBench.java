package dev.sieve.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sieve.dashboards.Dashboards.Dashboard;
import dev.sieve.dashboards.Dashboards.Query;
import dev.sieve.dashboards.GrafanaQuery.Multi;
import dev.sieve.dashboards.GrafanaQuery.Range;
import dev.sieve.dashboards.GrafanaQuery.Scalar;
import dev.sieve.dashboards.GrafanaQuery.Value;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.store.clickhouse.Schema;
import dev.sieve.relay.support.ClickHouseServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every ClickHouse query of every dashboard (panels and template variables, every variable at All) over
 * {@code bench.dashboards.flows} flows (10 M) spread over 24 h, on a ClickHouse 18.16 server started here:
 * median and p90 wall time per query from the HTTP client (Grafana's plugin sees the same), the goal
 * being a median below 500 ms per panel. The schema is the relay's (its migrations, materialized views
 * included); the flows are generated inside ClickHouse ({@code INSERT ... SELECT} from {@code numbers()}, so
 * the views fill the aggregates as they do on ingest) over 200 workloads in 20 namespaces on 10 nodes, each
 * workload talking to 4 others (800 pairs: 10% denied, 3% audited, the rest allowed with 1% other drops), with
 * 10% DNS, 10% HTTP and 2% Kafka L7 rows. The baseline in the same run: one full read of the range
 * ({@code count()} and a read of the columns the flow-records table shows).
 *
 * <p>{@code java ... DashboardsBench RESULTS_DIR}; knobs {@code -Dbench.dashboards.flows=},
 * {@code -Dbench.dashboards.runs=}, {@code -Dbench.dashboards.url=} (an existing server instead of one started here; with
 * {@code -Dbench.dashboards.server-pid=} for its CPU time, {@code -Dbench.dashboards.reuse=true} to keep flows it holds).
 */
public final class DashboardsBench {
    static final String DB = "dashbench";
    static final Instant FROM = Instant.parse("2026-11-20T00:00:00Z"), TO = FROM.plus(Duration.ofHours(24));
    /** Grafana's interval for 24 h on a full-width panel (86400 s / ~1000 points, rounded): one minute. */
    static final Range RANGE = new Range(FROM, TO, Duration.ofMinutes(1));
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static String url;

    public static void main(String[] args) throws Exception {
        Path results = Path.of(args.length > 0 ? args[0] : "bench/results");
        long flows = Long.getLong("bench.dashboards.flows", 10_000_000L);
        int runs = Integer.getInteger("bench.dashboards.runs", 7);
        ClickHouseServer server = null;
        url = System.getProperty("bench.dashboards.url");
        serverPid = Long.getLong("bench.dashboards.server-pid", -1L);
        try {
            if (url == null || url.isBlank()) {
                server = new ClickHouseServer().start();
                url = server.url();
                serverPid = server.pid();
            }
            ObjectNode out = new ObjectMapper().createObjectNode();
            out.put("clickhouse_version", sql("SELECT version()").strip());
            out.put("flows", flows);
            out.put("range", FROM + " .. " + TO);
            out.put("interval_s", RANGE.interval().toSeconds());
            out.put("runs_per_query", runs);
            out.put("machine_load_average_1m_at_start", loadAverage());

            long t0 = System.nanoTime();
            if (Boolean.getBoolean("bench.dashboards.reuse") && sql("EXISTS TABLE " + DB + ".l7_flows").strip().equals("1")
                    && sql("SELECT count() FROM " + DB + ".flows").strip().equals(Long.toString(flows))) {
                System.out.println("reusing the " + flows + " flows in " + url);
            } else {
                load(flows);
            }
            out.put("load_seconds", (System.nanoTime() - t0) / 1e9);
            out.put("stored_flows", Long.parseLong(sql("SELECT count() FROM " + DB + ".flows").strip()));
            for (String t : List.of("flows", "flow_minutes", "policy_minutes", "node_minutes", "l7_flows"))
                out.put("rows_" + t, Long.parseLong(sql("SELECT count() FROM " + DB + "." + t).strip()));

            ArrayNode baseline = out.putArray("baseline");
            String range = "time >= toDateTime(" + FROM.getEpochSecond() + ") AND time <= toDateTime(" + TO.getEpochSecond() + ")";
            baseline.add(measure("count() over the range", "SELECT count() FROM " + DB + ".flows WHERE " + range, runs));
            baseline.add(measure("read the flow-records columns over the range", "SELECT sum(length(node_name) + length(src_pod) + length(dst_pod) + length(src_ip) "
                    + "+ length(dst_ip) + length(uuid) + length(policies) + nanos + verdict + drop_reason) FROM " + DB + ".flows WHERE " + range, runs));

            ArrayNode panels = out.putArray("queries");
            double worst = 0;
            String worstKey = "";
            for (Dashboard d : Dashboards.all()) {
                boolean clickhouse = d.variables().stream().anyMatch(v -> v.path("datasource").path("type").asText().equals(Dashboards.CLICKHOUSE))
                        || Dashboards.queries(Dashboards.CLICKHOUSE).stream().anyMatch(q -> q.dashboard().uid().equals(d.uid()));
                if (!clickhouse) continue;
                Map<String, Value> vars = new LinkedHashMap<>();
                for (JsonNode v : d.variables()) {
                    String name = v.path("name").asText();
                    switch (v.path("type").asText()) {
                        case "constant" -> vars.put(name, new Scalar(name.equals("database") ? DB : v.path("query").asText()));
                        case "textbox" -> vars.put(name, new Scalar(v.path("query").asText()));
                        case "custom" -> vars.put(name, new Multi(null, Arrays.asList(v.path("query").asText().split(","))));
                        case "query" -> {
                            String expanded = GrafanaQuery.expand(v.path("query").asText(), vars, RANGE);
                            ObjectNode r = measure(d.uid() + "/$" + name, expanded, runs);
                            panels.add(r);
                            vars.put(name, new Multi(null, sql(expanded).lines().toList()));
                        }
                        default -> throw new IllegalStateException(d + ": variable type " + v.path("type"));
                    }
                }
                for (Query q : Dashboards.queries(Dashboards.CLICKHOUSE)) {
                    if (!q.dashboard().uid().equals(d.uid())) continue;
                    ObjectNode r = measure(q.key(), GrafanaQuery.expand(q.sql(), vars, RANGE), runs);
                    panels.add(r);
                    if (r.path("median_ms").asDouble() > worst) {
                        worst = r.path("median_ms").asDouble();
                        worstKey = q.key();
                    }
                }
            }
            out.put("slowest_panel", worstKey);
            out.put("slowest_panel_median_ms", worst);
            out.put("every_panel_median_below_500_ms", worst < 500);
            out.put("machine_load_average_1m_at_end", loadAverage());
            Files.createDirectories(results);
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(results.resolve("dashboards.json").toFile(), out);
            Files.writeString(results.resolve("dashboards.md"), markdown(out));
            System.out.print(markdown(out));
        } finally {
            if (server != null) server.close();
        }
    }

    /** The relay's schema, then {@code n} flows over the 24 h, generated by ClickHouse in chunks of 1 M rows. */
    static void load(long n) throws Exception {
        sql("DROP DATABASE IF EXISTS " + DB);
        try (ClickHouseFlowStore store = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(url, DB, "default", "", 36500, Duration.ofMillis(10), 100_000))) {
            store.migrate();
        }
        String columns = Schema.flowColumns(Schema.LATEST_VERSION);
        long chunk = 1_000_000;
        for (long offset = 0; offset < n; offset += chunk) {
            long count = Math.min(chunk, n - offset);
            sql("INSERT INTO " + DB + ".flows (" + columns + ") " + generated(offset, count, n));
        }
        // the steady state of a relay that has held a day of flows: background merges done
        for (String t : List.of("flows", "flow_minutes", "policy_minutes", "node_minutes")) sql("OPTIMIZE TABLE " + DB + "." + t + " FINAL");
    }

    /**
     * Flows {@code offset .. offset + count - 1} of {@code total}, evenly over the 24 h, in the relay's column
     * order. Every choice is a slice of one 64-bit hash of the flow's number, so a run is reproducible.
     */
    static String generated(long offset, long count, long total) {
        // a pair is allowed, denied or audited by policy; an allowed pair has a few drops of other causes
        String verdict = "multiIf(pv < 10, 2, pv < 13, 4, v < 1, 2, 1)";
        return """
            SELECT toDateTime(%1$d + intDiv(n * 86400, %2$d)) AS time, toUInt32(h %% 1000000000) AS nanos,
              toUInt8(%3$s) AS verdict, toUInt16(if(verdict = 2, multiIf(pv < 5, 133, pv < 10, 181, 163), 0)) AS drop_reason, toUInt8(1 + bitShiftRight(h, 40) %% 2) AS direction,
              toUInt8(if(l7 = 1 OR (l7 = 0 AND bitShiftRight(h, 60) %% 8 = 0), 17, 6)) AS protocol,
              concat('ns-', toString(sns)) AS src_namespace, concat('wl-', toString(sns), '-', toString(swl), '-', toString(bitShiftRight(h, 16) %% 5)) AS src_pod,
              concat('wl-', toString(sns), '-', toString(swl)) AS src_workload, toUInt32(1000 + sns * 10 + swl) AS src_identity,
              concat('ns-', toString(dns)) AS dst_namespace, concat('wl-', toString(dns), '-', toString(dwl), '-', toString(bitShiftRight(h, 36) %% 5)) AS dst_pod,
              concat('wl-', toString(dns), '-', toString(dwl)) AS dst_workload, toUInt32(1000 + dns * 10 + dwl) AS dst_identity,
              concat('10.', toString(sns), '.', toString(swl), '.', toString(bitShiftRight(h, 16) %% 5)) AS src_ip,
              concat('10.', toString(dns), '.', toString(dwl), '.', toString(bitShiftRight(h, 36) %% 5)) AS dst_ip,
              toUInt16(30000 + h %% 30000) AS src_port, toUInt16(multiIf(l7 = 1, 53, l7 = 2, 8080, l7 = 3, 9092, arrayElement([80, 443, 5432, 6379, 9090], 1 + bitShiftRight(h, 50) %% 5))) AS dst_port,
              concat('node-', toString(bitShiftRight(h, 48) %% 10)) AS node_name, 'bench' AS epoch, toUInt64(intDiv(n, 1000)) AS batch_seq, toUInt64(n + 1) AS flow_seq,
              concat(hex(h), hex(cityHash64(n, 1))) AS uuid,
              multiIf(verdict = 1, [concat('allow:CiliumNetworkPolicy/ns-', toString(dns), '/allow-', toString(dwl))],
                      verdict = 2 AND drop_reason = 181, [concat('deny:CiliumNetworkPolicy/ns-', toString(sns), '/deny-', toString(swl))], emptyArrayString()) AS policies,
              concat(hex(cityHash64(n, 2)), hex(cityHash64(n, 3)), hex(cityHash64(n, 4)), hex(cityHash64(n, 5)), hex(cityHash64(n, 6)), hex(cityHash64(n, 7))) AS flow,
              toUInt64(cityHash64(src_identity)) AS src_labels, toUInt64(cityHash64(dst_identity)) AS dst_labels,
              toUInt8(l7) AS l7_record, toUInt8(if(l7 = 0, 0, 1 + bitShiftRight(h, 52) %% 2)) AS l7_type,
              toUInt64(if(l7_type = 2, (1 + h %% 200) * 1000000, 0)) AS l7_latency_ns,
              if(l7 = 1, concat('name-', toString(bitShiftRight(h, 20) %% 500), '.example.com.'), '') AS dns_query,
              toUInt16(if(l7 = 1 AND l7_type = 2, multiIf(bitShiftRight(h, 56) %% 10 = 0, 3, bitShiftRight(h, 56) %% 10 = 1, 5, 0), 0)) AS dns_rcode,
              if(l7 = 1, [if(bitShiftRight(h, 57) %% 4 = 0, 'AAAA', 'A')], emptyArrayString()) AS dns_qtypes,
              if(l7 = 1 AND l7_type = 2 AND dns_rcode = 0, [concat('192.0.2.', toString(bitShiftRight(h, 20) %% 250))], emptyArrayString()) AS dns_ips,
              if(l7 = 2, arrayElement(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'], 1 + bitShiftRight(h, 24) %% 6), '') AS http_method,
              toUInt16(if(l7 = 2 AND l7_type = 2, arrayElement([200, 200, 200, 200, 201, 404, 403, 500], 1 + bitShiftRight(h, 28) %% 8), 0)) AS http_status,
              if(l7 = 2, concat('http://wl-', toString(dns), '-', toString(dwl), '/api/v1/items/', toString(h %% 100)), '') AS http_url,
              if(l7 = 3, if(bitShiftRight(h, 24) %% 3 = 0, 'fetch', 'produce'), '') AS kafka_api_key,
              if(l7 = 3, concat('topic-', toString(bitShiftRight(h, 28) %% 20)), '') AS kafka_topic,
              toInt32(if(l7 = 3 AND l7_type = 2 AND verdict = 2, 29, 0)) AS kafka_error_code
            FROM (
              SELECT n, h, v, sns, swl, peer, if(peer = 3, (sns + 1) %% 20, sns) AS dns, if(peer = 3, swl, (swl + 1 + peer) %% 10) AS dwl,
                     cityHash64(sns, swl, peer) %% 100 AS pv,
                     multiIf(bitShiftRight(h, 44) %% 100 < 10, 1, bitShiftRight(h, 44) %% 100 < 20, 2, bitShiftRight(h, 44) %% 100 < 22, 3, 0) AS l7
              FROM (SELECT n, h, bitShiftRight(h, 32) %% 100 AS v, bitShiftRight(h, 4) %% 20 AS sns, bitShiftRight(h, 8) %% 10 AS swl, bitShiftRight(h, 12) %% 4 AS peer
                    FROM (SELECT number + %4$d AS n, cityHash64(number + %4$d) AS h FROM numbers(%5$d)))
            )""".formatted(FROM.getEpochSecond(), total, verdict, offset, count);
    }

    /**
     * One warm-up, then {@code runs} timed runs: median, p90, max, rows returned, and (for a server started
     * here) the server's CPU time per run, which depends less on what else the machine runs than wall time.
     */
    static ObjectNode measure(String key, String sql, int runs) throws Exception {
        sql(sql); // warm-up (marks, caches, the plan)
        double[] ms = new double[runs];
        int rows = 0;
        long cpu0 = serverCpuMs();
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            String out = sql(sql);
            ms[i] = (System.nanoTime() - t) / 1e6;
            rows = (int) out.lines().count();
        }
        long cpu = serverCpuMs() - cpu0;
        Arrays.sort(ms);
        ObjectNode r = new ObjectMapper().createObjectNode();
        r.put("query", key);
        r.put("median_ms", round(ms[runs / 2]));
        r.put("p90_ms", round(ms[Math.min(runs - 1, (int) Math.ceil(runs * 0.9) - 1)]));
        r.put("max_ms", round(ms[runs - 1]));
        r.put("rows", rows);
        if (cpu0 >= 0) r.put("server_cpu_ms_per_run", round(cpu / (double) runs));
        System.out.printf(Locale.ROOT, "%-80s median %8.1f ms  p90 %8.1f ms  cpu %8.1f ms  rows %d%n", key, ms[runs / 2], r.path("p90_ms").asDouble(),
                r.path("server_cpu_ms_per_run").asDouble(-1), rows);
        return r;
    }

    static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    static String sql(String statement) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/")).timeout(Duration.ofMinutes(30))
                .POST(HttpRequest.BodyPublishers.ofString(statement)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("ClickHouse " + r.statusCode() + ": " + r.body() + "\n" + statement);
        return r.body();
    }

    static long serverPid = -1;

    /** The started server's user + system CPU time in ms (/proc/PID/stat, clock ticks of 10 ms), -1 if not ours. */
    static long serverCpuMs() {
        if (serverPid < 0) return -1;
        try {
            String stat = Files.readString(Path.of("/proc/" + serverPid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (Exception e) {
            return -1;
        }
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return -1;
        }
    }

    static String markdown(ObjectNode out) {
        StringBuilder b = new StringBuilder();
        b.append("# Dashboard panel queries over ").append(String.format(Locale.ROOT, "%,d", out.path("flows").asLong()))
                .append(" flows, 24 h, ClickHouse ").append(out.path("clickhouse_version").asText()).append("\n\n");
        b.append("Every ClickHouse query of `dashboards/grafana/clickhouse/` (variables at All, interval 1 min), expanded as Grafana and the plugin ")
                .append("do; wall time at the HTTP client, one warm-up then ").append(out.path("runs_per_query").asInt()).append(" runs. Goal: median < 500 ms per panel. ")
                .append("Load average at start ").append(out.path("machine_load_average_1m_at_start").asDouble()).append(", at end ")
                .append(out.path("machine_load_average_1m_at_end").asDouble()).append(" (a shared machine: indicative). Generating and merging the flows took ")
                .append(String.format(Locale.ROOT, "%.0f", out.path("load_seconds").asDouble())).append(" s; rows: flows ").append(out.path("rows_flows").asLong())
                .append(", flow_minutes ").append(out.path("rows_flow_minutes").asLong()).append(", policy_minutes ").append(out.path("rows_policy_minutes").asLong())
                .append(", node_minutes ").append(out.path("rows_node_minutes").asLong()).append(", l7_flows ").append(out.path("rows_l7_flows").asLong())
                .append(".\n\n");
        b.append("| query | median ms | p90 ms | max ms | server CPU ms/run | rows |\n|---|---:|---:|---:|---:|---:|\n");
        for (String part : List.of("baseline", "queries"))
            for (JsonNode r : out.path(part))
                b.append("| ").append(part.equals("baseline") ? "*baseline:* " : "").append(r.path("query").asText().replace("|", "\\|")).append(" | ")
                        .append(r.path("median_ms").asDouble()).append(" | ").append(r.path("p90_ms").asDouble()).append(" | ").append(r.path("max_ms").asDouble())
                        .append(" | ").append(r.has("server_cpu_ms_per_run") ? String.valueOf(r.path("server_cpu_ms_per_run").asDouble()) : "")
                        .append(" | ").append(r.path("rows").asInt()).append(" |\n");
        b.append("\nSlowest panel: ").append(out.path("slowest_panel").asText()).append(", median ").append(out.path("slowest_panel_median_ms").asDouble())
                .append(" ms; every panel below 500 ms: ").append(out.path("every_panel_median_below_500_ms").asBoolean()).append(".\n");
        return b.toString();
    }
}
