package dev.sieve.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sieve.dashboards.Dashboards.Dashboard;
import dev.sieve.dashboards.Dashboards.Query;
import dev.sieve.dashboards.GrafanaQuery.Multi;
import dev.sieve.dashboards.GrafanaQuery.Range;
import dev.sieve.dashboards.GrafanaQuery.Scalar;
import dev.sieve.dashboards.GrafanaQuery.Value;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every ClickHouse query of every dashboard (panels and variables), expanded as Grafana and the plugin expand
 * it, run against a real ClickHouse 18.16 server holding {@link KnownFlows} as the relay's ClickHouseFlowStore
 * wrote them (schema and materialized views from its migrations): each returns the expected columns and the
 * expected values, with every variable at All and in filtered scenarios. A query without expectations fails.
 */
class ClickHouseDashboardsTest {
    @RegisterExtension static final ClickHouseServer CH = new ClickHouseServer();
    static final String DB = "dashboards";
    static final Range HOUR = new Range(KnownFlows.FROM, KnownFlows.TO, Duration.ofSeconds(60));
    static ClickHouseFlowStore store;
    /** The last run of each query, expanded, with its result on 18.16: what the current-engine check runs again. */
    static final Map<String, Ran> RUN = new TreeMap<>();

    record Result(List<String> columns, List<List<String>> rows) {}

    record Ran(String sql, Result result) {}

    @BeforeAll
    static void load() throws Exception {
        store = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(CH.url(), DB, "default", "", 36500, Duration.ofMillis(10), 100_000));
        store.migrate();
        long seq = 1;
        for (KnownFlows.NodeFlows n : KnownFlows.all()) store.append(new StreamKey(n.node(), "e1"), seq, 1, n.flows());
        // the L7 columns come from the flows' Layer7 records, filled by the writer
        assertThat(CH.sql("SELECT count(), countIf(l7_record = 1), countIf(l7_record = 2), countIf(l7_record = 3) FROM " + DB + ".flows").trim())
                .isEqualTo("101\t13\t4\t8");
    }

    @AfterAll
    static void close() {
        if (store != null) store.close();
    }

    // ---------------------------------------------------------------- running a dashboard's queries

    /** The variables of a dashboard at All / empty, with {@code set} overriding some: what Grafana would send. */
    static Map<String, Value> variables(Dashboard d, Range range, Map<String, Object> set) throws Exception {
        Map<String, Value> vars = new LinkedHashMap<>();
        for (JsonNode v : d.variables()) {
            String name = v.path("name").asText();
            Object chosen = set.get(name);
            switch (v.path("type").asText()) {
                case "constant" -> vars.put(name, new Scalar(name.equals("database") ? DB : v.path("query").asText()));
                case "textbox" -> vars.put(name, new Scalar(chosen != null ? (String) chosen : v.path("query").asText()));
                case "custom" -> vars.put(name, multi(chosen, Arrays.asList(v.path("query").asText().split(","))));
                case "query" -> {
                    Result r = run(d.uid() + "/$" + name, v.path("query").asText(), vars, range);
                    vars.put(name, multi(chosen, r.rows().stream().map(List::getFirst).toList()));
                }
                default -> throw new IllegalStateException(d + ": variable type " + v.path("type"));
            }
        }
        return vars;
    }

    @SuppressWarnings("unchecked")
    private static Multi multi(Object chosen, List<String> options) {
        return new Multi(chosen == null ? null : (List<String>) chosen, options);
    }

    static Result run(String key, String sql, Map<String, Value> vars, Range range) throws Exception {
        String expanded = GrafanaQuery.expand(sql, vars, range);
        String out;
        try {
            out = CH.sql(expanded + "\nFORMAT TabSeparatedWithNames");
        } catch (IllegalStateException e) {
            throw new AssertionError(key + ": ClickHouse 18.16 refused the expanded SQL:\n" + expanded + "\n" + e.getMessage(), e);
        }
        List<String> lines = out.lines().toList();
        List<List<String>> rows = lines.stream().skip(1).map(l -> Arrays.asList(l.split("\t", -1))).toList();
        Result r = new Result(Arrays.asList(lines.getFirst().split("\t", -1)), rows);
        RUN.put(key, new Ran(expanded, r));
        return r;
    }

    static Result panel(String uid, String title, String refId, Map<String, Object> set, Range range) throws Exception {
        Dashboard d = Dashboards.all().stream().filter(x -> x.uid().equals(uid)).findFirst().orElseThrow();
        JsonNode p = d.panels().stream().filter(x -> x.path("title").asText().equals(title)).findFirst()
                .orElseThrow(() -> new AssertionError(uid + ": no panel \"" + title + "\""));
        JsonNode t = null;
        for (JsonNode x : p.path("targets")) if (x.path("refId").asText().equals(refId)) t = x;
        assertThat(t).as(uid + " \"" + title + "\" " + refId).isNotNull();
        return run(uid + "/" + title + "/" + refId, t.path("rawSql").asText(), variables(d, range, set), range);
    }

    // ---------------------------------------------------------------- expectations

    static List<Object> row(Object... cells) {
        return Arrays.asList(cells);
    }

    /** Columns, then rows; numbers compare as numbers (1e-9 relative), everything else as text. */
    static void expect(Result r, String what, List<String> columns, List<List<Object>> rows) {
        assertThat(r.columns()).as(what + ": columns").isEqualTo(columns);
        List<String> problems = new ArrayList<>();
        if (r.rows().size() != rows.size()) problems.add("expected " + rows.size() + " rows, got " + r.rows().size());
        for (int i = 0; i < Math.min(rows.size(), r.rows().size()); i++) {
            for (int c = 0; c < columns.size(); c++) {
                Object want = rows.get(i).get(c);
                String got = r.rows().get(i).get(c);
                boolean ok = want instanceof Number n ? close(n.doubleValue(), got) : Objects.equals(String.valueOf(want), got);
                if (!ok) problems.add("row " + i + " " + columns.get(c) + ": expected " + want + ", got " + got);
            }
        }
        assertThat(problems).as(what + " returned " + r.rows()).isEmpty();
    }

    private static boolean close(double want, String got) {
        try {
            double g = Double.parseDouble(got);
            return Math.abs(g - want) <= 1e-9 * Math.max(1, Math.abs(want));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    static final String T = "2026-11-20 ";
    static final Map<String, Object> ALL = Map.of();

    /** Expected results with every variable at All, by dashboard uid / panel title / refId. */
    static final Map<String, Runnable> DEFAULTS = new LinkedHashMap<>();

    interface Check {
        void check(Result r);
    }

    static final Map<String, Check> EXPECTED = new LinkedHashMap<>();

    static void expected(String key, List<String> columns, List<List<Object>> rows) {
        EXPECTED.put(key, r -> expect(r, key, columns, rows));
    }

    static {
        List<String> perSecond = List.of("bucket", "verdict_name", "flows_per_second");
        List<List<Object>> byVerdict = List.of(
                row(T + "10:05:00", "FORWARDED", 30 / 60.0),
                row(T + "10:10:00", "DROPPED", 10 / 60.0), row(T + "10:10:00", "FORWARDED", 20 / 60.0),
                row(T + "10:20:00", "DROPPED", 5 / 60.0),
                row(T + "10:30:00", "AUDIT", 4 / 60.0),
                row(T + "10:40:00", "DROPPED", 1 / 60.0), row(T + "10:40:00", "FORWARDED", 12 / 60.0),
                row(T + "10:45:00", "FORWARDED", 4 / 60.0),
                row(T + "10:50:00", "DROPPED", 1 / 60.0), row(T + "10:50:00", "FORWARDED", 3 / 60.0),
                row(T + "10:51:00", "FORWARDED", 4 / 60.0));
        // overview
        expected("sieve-overview/Flows/s by verdict/A", perSecond, byVerdict);
        expected("sieve-overview/Drops/s by reason/A", List.of("bucket", "reason", "drops_per_second"), List.of(
                row(T + "10:10:00", "POLICY_DENIED", 10 / 60.0), row(T + "10:20:00", "POLICY_DENY", 5 / 60.0), row(T + "10:40:00", "POLICY_DENIED", 1 / 60.0),
                row(T + "10:50:00", "DROP_REASON_UNKNOWN", 1 / 60.0))); // an L7 denial has no drop reason (as in Cilium)
        expected("sieve-overview/Flows by verdict/A", List.of("verdict_name", "flows"), List.of(row("FORWARDED", 73), row("DROPPED", 17), row("AUDIT", 4)));
        expected("sieve-overview/Top namespaces/A", List.of("namespace", "total", "dropped", "audit"), List.of(
                row("production", 94, 17, 4), row("kube-system", 13, 1, 0), row("development", 10, 10, 0), row("monitoring", 4, 0, 4)));
        expected("sieve-overview/Nodes/A", List.of("node", "total", "dropped", "flows_per_second"), List.of(
                row("node-a", 52, 6, 0.014), row("node-b", 42, 11, 0.012)));
        expected("sieve-overview/Flows/s by node/A", List.of("bucket", "node", "flows_per_second"), List.of(
                row(T + "10:05:00", "node-a", 0.5), row(T + "10:10:00", "node-b", 0.5), row(T + "10:20:00", "node-a", 5 / 60.0),
                row(T + "10:30:00", "node-a", 4 / 60.0), row(T + "10:40:00", "node-a", 13 / 60.0), row(T + "10:45:00", "node-b", 4 / 60.0),
                row(T + "10:50:00", "node-b", 4 / 60.0), row(T + "10:51:00", "node-b", 4 / 60.0)));
        // policy
        String cnp = "CiliumNetworkPolicy";
        expected("sieve-policy/Policy verdicts/s/A", List.of("bucket", "policy_verdict", "flows_per_second"), List.of(
                row(T + "10:05:00", "allow:" + cnp + "/production/allow-fe-be FORWARDED", 0.5),
                row(T + "10:10:00", "allow:" + cnp + "/production/allow-be-db FORWARDED", 20 / 60.0),
                row(T + "10:20:00", "deny:" + cnp + "/production/deny-world DROPPED", 5 / 60.0),
                row(T + "10:40:00", "allow:" + cnp + "/kube-system/allow-dns FORWARDED", 6 / 60.0)));
        List<String> byPolicy = List.of("effect", "kind", "policy_namespace", "name", "forwarded", "dropped", "audit", "total");
        expected("sieve-policy/Drops and allows by policy/A", byPolicy, List.of(
                row("allow", cnp, "production", "allow-fe-be", 30, 0, 0, 30), row("allow", cnp, "production", "allow-be-db", 20, 0, 0, 20),
                row("allow", cnp, "kube-system", "allow-dns", 6, 0, 0, 6), row("deny", cnp, "production", "deny-world", 0, 5, 0, 5)));
        expected("sieve-policy/Verdicts by namespace/A", List.of("namespace", "forwarded", "dropped", "audit", "total"), List.of(
                row("production", 73, 17, 4, 94), row("kube-system", 12, 1, 0, 13), row("development", 0, 10, 0, 10), row("monitoring", 0, 0, 4, 4)));
        List<String> pair = List.of("src_namespace", "src_workload", "dst_namespace", "dst_workload");
        expected("sieve-policy/Audit verdicts: what would be dropped without audit mode/A", cols(pair, "flows"),
                List.of(row("monitoring", "prometheus", "production", "backend", 4)));
        expected("sieve-policy/Policies that matched nothing in this range/A", List.of("effect", "kind", "policy_namespace", "name", "last_matched", "flows_outside"),
                List.of(row("allow", cnp, "production", "old-policy", T + "09:50:00", 7)));
        // workloads
        expected("sieve-workloads/Top talkers/A", cols(pair, "total", "dropped", "audit"), List.of(
                row("production", "frontend", "production", "backend", 30, 0, 0),
                row("production", "backend", "production", "database", 20, 0, 0),
                row("development", "dev-client", "production", "database", 10, 10, 0),
                row("production", "frontend", "kube-system", "coredns", 7, 1, 0),
                row("kube-system", "coredns", "production", "frontend", 6, 0, 0),
                row("production", "frontend", "", "reserved:world", 5, 5, 0),
                row("monitoring", "prometheus", "production", "backend", 4, 0, 4),
                row("production", "backend", "production", "frontend", 4, 0, 0),
                row("production", "backend", "production", "kafka", 4, 1, 0),
                row("production", "kafka", "production", "backend", 4, 0, 0)));
        expected("sieve-workloads/Denied pairs/A", cols(pair, "dropped"), List.of(
                row("development", "dev-client", "production", "database", 10), row("production", "frontend", "", "reserved:world", 5),
                row("production", "backend", "production", "kafka", 1), row("production", "frontend", "kube-system", "coredns", 1)));
        expected("sieve-workloads/Workload graph/nodes",
                List.of("id", "title", "subtitle", "mainstat", "secondarystat", "arc__forwarded", "arc__dropped", "arc__audit", "arc__other"), List.of(
                        row("production/backend", "backend", "production", 66, 1, 61 / 66.0, 1 / 66.0, 4 / 66.0, 0),
                        row("production/frontend", "frontend", "production", 52, 6, 46 / 52.0, 6 / 52.0, 0, 0),
                        row("production/database", "database", "production", 30, 10, 20 / 30.0, 10 / 30.0, 0, 0),
                        row("kube-system/coredns", "coredns", "kube-system", 13, 1, 12 / 13.0, 1 / 13.0, 0, 0),
                        row("development/dev-client", "dev-client", "development", 10, 10, 0, 1, 0, 0),
                        row("production/kafka", "kafka", "production", 8, 1, 7 / 8.0, 1 / 8.0, 0, 0),
                        row("/reserved:world", "reserved:world", "(no namespace)", 5, 5, 0, 1, 0, 0),
                        row("monitoring/prometheus", "prometheus", "monitoring", 4, 0, 0, 0, 1, 0)));
        expected("sieve-workloads/Workload graph/edges",
                List.of("id", "source", "target", "mainstat", "secondarystat", "detail__forwarded", "detail__dropped", "detail__audit", "color"), List.of(
                        edge("production/frontend", "production/backend", 30, 30, 0, 0, "green"),
                        edge("production/backend", "production/database", 20, 20, 0, 0, "green"),
                        edge("development/dev-client", "production/database", 10, 0, 10, 0, "red"),
                        edge("production/frontend", "kube-system/coredns", 7, 6, 1, 0, "red"),
                        edge("kube-system/coredns", "production/frontend", 6, 6, 0, 0, "green"),
                        edge("production/frontend", "/reserved:world", 5, 0, 5, 0, "red"),
                        edge("monitoring/prometheus", "production/backend", 4, 0, 0, 4, "orange"),
                        edge("production/backend", "production/frontend", 4, 4, 0, 0, "green"),
                        edge("production/backend", "production/kafka", 4, 3, 1, 0, "red"),
                        edge("production/kafka", "production/backend", 4, 4, 0, 0, "green")));
        // flow records
        expected("sieve-flows/Matching flows/s by verdict/A", perSecond, byVerdict);
        EXPECTED.put("sieve-flows/Flows/A", r -> {
            assertThat(r.columns()).containsExactly("time", "nanos", "node", "verdict_name", "drop_reason_name", "traffic_direction", "l4", "source",
                    "source_address", "destination", "destination_address", "policies_matched", "uuid");
            assertThat(r.rows()).hasSize(94);
            assertThat(r.rows().getFirst()).containsExactly(T + "10:51:03", "3000", "node-b", "FORWARDED", "", "EGRESS", "tcp", "production/kafka-0",
                    "10.0.1.40:9092", "production/backend-5f6c8", "10.0.1.20:46003", "", java.util.UUID.nameUUIDFromBytes("F12/3".getBytes()).toString());
            assertThat(r.rows()).anySatisfy(x -> assertThat(x).containsExactly(T + "10:20:04", "4000", "node-a", "DROPPED", "POLICY_DENY", "EGRESS", "udp",
                    "production/frontend-7d4b9", "10.0.1.10:53004", "reserved:world", "8.8.8.8:53", "deny:CiliumNetworkPolicy/production/deny-world",
                    java.util.UUID.nameUUIDFromBytes("F4/4".getBytes()).toString()));
        });
        // DNS
        expected("sieve-dns/DNS queries/s by verdict/A", List.of("bucket", "verdict_name", "queries_per_second"), List.of(
                row(T + "10:40:00", "DROPPED", 1 / 60.0), row(T + "10:40:00", "FORWARDED", 6 / 60.0)));
        expected("sieve-dns/Queries, denied, refused/A", List.of("queries", "denied", "refused", "nxdomain"), List.of(row(7, 1, 2, 0)));
        expected("sieve-dns/Top queried names/A", List.of("query", "queries", "denied", "errors"), List.of(
                row("api.example.com.", 6, 0, 2), row("evil.example.org.", 1, 1, 0)));
        expected("sieve-dns/Response codes/A", List.of("rcode", "responses"), List.of(row("NOERROR", 4), row("REFUSED", 2)));
        expected("sieve-dns/Query types/A", List.of("qtype", "queries"), List.of(row("A", 7)));
        expected("sieve-dns/Queries by client workload/A", List.of("namespace", "workload", "queries", "denied"), List.of(row("production", "frontend", 7, 1)));
        // HTTP: latencies 10, 20, 30, 100 ms; quantileExact(level) is the element at floor(level * n) of the sorted values
        expected("sieve-http/Requests/s by method and status/A", List.of("bucket", "method_status", "requests_per_second"), List.of(
                row(T + "10:45:00", "GET 200", 3 / 60.0), row(T + "10:45:00", "POST 500", 1 / 60.0)));
        expected("sieve-http/Latency percentiles/A", List.of("bucket", "p50_ms", "p95_ms", "p99_ms"), List.of(row(T + "10:45:00", 30, 100, 100)));
        expected("sieve-http/Requests by workload, method and status/A", List.of("namespace", "workload", "method", "status", "requests"), List.of(
                row("production", "backend", "GET", 200, 3), row("production", "backend", "POST", 500, 1)));
        expected("sieve-http/Latency and errors by workload/A", List.of("namespace", "workload", "requests", "errors_5xx", "p50_ms", "p95_ms", "p99_ms"),
                List.of(row("production", "backend", 4, 1, 30, 100, 100)));
        // Kafka: requests produce payments x3 (forwarded), orders x1 (denied); responses 0 x3 (2/4/6 ms), 29 x1 (1 ms)
        expected("sieve-kafka/Kafka requests/s by API key and verdict/A", List.of("bucket", "api_key_verdict", "requests_per_second"), List.of(
                row(T + "10:50:00", "produce DROPPED", 1 / 60.0), row(T + "10:50:00", "produce FORWARDED", 3 / 60.0)));
        expected("sieve-kafka/Requests, denied, authorization failures/A", List.of("requests", "denied", "authorization_failed", "other_errors"),
                List.of(row(4, 1, 1, 0)));
        expected("sieve-kafka/Top topics/A", List.of("topic", "requests", "produce", "fetch", "denied"), List.of(
                row("payments", 3, 3, 0, 0), row("orders", 1, 1, 0, 1)));
        expected("sieve-kafka/Response error codes/A", List.of("error", "responses"), List.of(row("NONE", 3), row("TOPIC_AUTHORIZATION_FAILED", 1)));
        expected("sieve-kafka/Requests by client workload, API key and topic/A", List.of("namespace", "workload", "api_key", "topic", "requests", "denied"),
                List.of(row("production", "backend", "produce", "payments", 3, 0), row("production", "backend", "produce", "orders", 1, 1)));
        // latencies 1, 2, 4, 6 ms: quantileExact(level) is the element at floor(level * n)
        expected("sieve-kafka/Latency by API key/A", List.of("api_key", "responses", "p50_ms", "p95_ms", "p99_ms"), List.of(row("produce", 4, 4, 6, 6)));
    }

    private static List<String> cols(List<String> first, String... more) {
        List<String> out = new ArrayList<>(first);
        out.addAll(List.of(more));
        return out;
    }

    private static List<Object> edge(String s, String t, long flows, long fwd, long dropped, long audit, String color) {
        return row(s + " -> " + t, s, t, flows, dropped, fwd, dropped, audit, color);
    }

    // ---------------------------------------------------------------- tests

    @Test
    void everyPanelQueryReturnsTheExpectedRowsWithEveryVariableAtAll() throws Exception {
        List<String> missing = new ArrayList<>();
        for (Query q : Dashboards.queries(Dashboards.CLICKHOUSE)) {
            Check c = EXPECTED.get(q.key());
            if (c == null) {
                missing.add(q.where());
                continue;
            }
            c.check(panel(q.dashboard().uid(), q.panel().path("title").asText(), q.target().path("refId").asText(), ALL, HOUR));
        }
        assertThat(missing).as("ClickHouse queries without expected results").isEmpty();
        assertThat(EXPECTED.keySet()).as("expectations for queries that no longer exist")
                .containsExactlyInAnyOrderElementsOf(Dashboards.queries(Dashboards.CLICKHOUSE).stream().map(Query::key).toList());
    }

    @Test
    void variableQueriesListWhatTheRangeHolds() throws Exception {
        Dashboard overview = Dashboards.all().stream().filter(d -> d.uid().equals("sieve-overview")).findFirst().orElseThrow();
        Map<String, Value> vars = variables(overview, HOUR, ALL);
        assertThat(((Multi) vars.get("namespace")).options()).containsExactly("development", "kube-system", "monitoring", "production");
        assertThat(((Multi) vars.get("workload")).options())
                .containsExactly("backend", "coredns", "database", "dev-client", "frontend", "kafka", "prometheus", "reserved:world");
        // the workload list follows the namespace selection
        vars = variables(overview, HOUR, Map.of("namespace", List.of("development", "monitoring")));
        assertThat(((Multi) vars.get("workload")).options()).containsExactly("dev-client", "prometheus");
        Dashboard flows = Dashboards.all().stream().filter(d -> d.uid().equals("sieve-flows")).findFirst().orElseThrow();
        assertThat(((Multi) variables(flows, HOUR, ALL).get("node")).options()).containsExactly("node-a", "node-b");
        // every variable query of every dashboard runs
        for (Dashboard d : Dashboards.all()) if (d.variables().stream().anyMatch(v -> v.path("datasource").path("type").asText().equals(Dashboards.CLICKHOUSE)))
            variables(d, HOUR, ALL);
    }

    @Test
    void filtersSelectWhatSieveObserveWould() throws Exception {
        expect(panel("sieve-overview", "Flows/s by verdict", "A", Map.of("namespace", List.of("development"), "verdict", List.of("DROPPED")), HOUR),
                "development, DROPPED", List.of("bucket", "verdict_name", "flows_per_second"), List.of(row(T + "10:10:00", "DROPPED", 10 / 60.0)));
        // a filter only the flows table has: the raw flows, not the per-minute aggregates
        List<String> perSecond = List.of("bucket", "verdict_name", "flows_per_second");
        expect(panel("sieve-flows", "Matching flows/s by verdict", "A", Map.of("from_pod", "development/"), HOUR), "from_pod development/", perSecond,
                List.of(row(T + "10:10:00", "DROPPED", 10 / 60.0)));
        expect(panel("sieve-flows", "Matching flows/s by verdict", "A", Map.of("protocol", List.of("udp"), "verdict", List.of("DROPPED")), HOUR),
                "udp, DROPPED", perSecond, List.of(row(T + "10:20:00", "DROPPED", 5 / 60.0), row(T + "10:40:00", "DROPPED", 1 / 60.0)));
        expect(panel("sieve-flows", "Matching flows/s by verdict", "A", Map.of("node", List.of("node-b"), "verdict", List.of("DROPPED")), HOUR),
                "node-b, DROPPED", perSecond, List.of(row(T + "10:10:00", "DROPPED", 10 / 60.0), row(T + "10:50:00", "DROPPED", 1 / 60.0)));
        assertThat(flowRows(Map.of("from_pod", "development/"))).hasSize(10).allSatisfy(r -> assertThat(r.get(7)).isEqualTo("development/dev-client"));
        assertThat(flowRows(Map.of("to_port", "5432", "verdict", List.of("FORWARDED")))).hasSize(20);
        assertThat(flowRows(Map.of("protocol", List.of("udp")))).hasSize(18);
        assertThat(flowRows(Map.of("ip", "8.8.8.8", "node", List.of("node-a")))).hasSize(5);
        assertThat(flowRows(Map.of("ip", "8.8.8.8", "node", List.of("node-b")))).isEmpty();
        assertThat(flowRows(Map.of("to_pod", "production/frontend", "verdict", List.of("FORWARDED", "AUDIT")))).hasSize(10); // DNS answers, HTTP
        assertThat(flowRows(Map.of("from_pod", "it's/"))).isEmpty(); // a quote in a textbox stays inside the literal
        expect(panel("sieve-workloads", "Top talkers", "A", Map.of("workload", List.of("prometheus")), HOUR), "workload prometheus",
                List.of("src_namespace", "src_workload", "dst_namespace", "dst_workload", "total", "dropped", "audit"),
                List.of(row("monitoring", "prometheus", "production", "backend", 4, 0, 4)));
        expect(panel("sieve-policy", "Drops and allows by policy", "A", Map.of("namespace", List.of("kube-system")), HOUR), "policies of kube-system",
                List.of("effect", "kind", "policy_namespace", "name", "forwarded", "dropped", "audit", "total"),
                List.of(row("allow", "CiliumNetworkPolicy", "kube-system", "allow-dns", 6, 0, 0, 6)));
        expect(panel("sieve-dns", "Top queried names", "A", Map.of("node", List.of("node-b")), HOUR), "DNS on node-b",
                List.of("query", "queries", "denied", "errors"), List.of());
    }

    @Test
    void bucketsFollowTheIntervalAndNeverGoBelowAMinute() throws Exception {
        // 10 minutes: 10:00 holds F1, 10:10 F2 and F3; 10:40 holds the DNS (10:40) and HTTP (10:45) flows
        expect(panel("sieve-overview", "Flows/s by verdict", "A", ALL, new Range(KnownFlows.FROM, KnownFlows.TO, Duration.ofMinutes(10))), "10 minute buckets",
                List.of("bucket", "verdict_name", "flows_per_second"), List.of(
                        row(T + "10:00:00", "FORWARDED", 30 / 600.0), row(T + "10:10:00", "DROPPED", 10 / 600.0), row(T + "10:10:00", "FORWARDED", 20 / 600.0),
                        row(T + "10:20:00", "DROPPED", 5 / 600.0), row(T + "10:30:00", "AUDIT", 4 / 600.0),
                        row(T + "10:40:00", "DROPPED", 1 / 600.0), row(T + "10:40:00", "FORWARDED", 16 / 600.0),
                        row(T + "10:50:00", "DROPPED", 1 / 600.0), row(T + "10:50:00", "FORWARDED", 7 / 600.0)));
        // Grafana's 1 s interval for a short range: still per-minute buckets (the aggregates' resolution)
        Result r = panel("sieve-overview", "Flows/s by verdict", "A", ALL, new Range(KnownFlows.FROM, KnownFlows.TO, Duration.ofSeconds(1)));
        assertThat(r.rows().getFirst()).containsExactly(T + "10:05:00", "FORWARDED", "0.5");
        // the range decides: 09:45-09:59:59 holds only F6, 09:30-09:49:59 nothing
        expect(panel("sieve-overview", "Flows by verdict", "A", ALL, new Range(KnownFlows.FROM.minusSeconds(900), KnownFlows.FROM.minusSeconds(1), HOUR.interval())),
                "09:45-10:00", List.of("verdict_name", "flows"), List.of(row("FORWARDED", 7)));
        assertThat(panel("sieve-overview", "Flows by verdict", "A", ALL, new Range(KnownFlows.FROM.minusSeconds(1800), KnownFlows.FROM.minusSeconds(601), HOUR.interval()))
                .rows()).isEmpty();
    }

    private static List<List<String>> flowRows(Map<String, Object> set) throws Exception {
        return panel("sieve-flows", "Flows", "A", set, HOUR).rows();
    }

    /**
     * The same schema (the relay's migrations, materialized views included), the same rows and every query
     * above on a current ClickHouse engine (chdb, in-process in Node): the same columns and values as 18.16.
     */
    @Test
    void theSameQueriesGiveTheSameResultsOnACurrentClickHouse() throws Exception {
        everyPanelQueryReturnsTheExpectedRowsWithEveryVariableAtAll();
        variableQueriesListWhatTheRangeHolds();
        filtersSelectWhatSieveObserveWould();
        Map<String, Result> current = Chdb.run(DB, CH, RUN);
        List<String> problems = new ArrayList<>();
        for (var e : RUN.entrySet()) {
            Result old = e.getValue().result(), now = current.get(e.getKey());
            if (now == null) problems.add(e.getKey() + ": no result");
            else if (!old.columns().equals(now.columns())) problems.add(e.getKey() + ": columns " + now.columns() + " vs " + old.columns() + " on 18.16");
            else if (!sameRows(old.rows(), now.rows())) problems.add(e.getKey() + ": rows " + now.rows() + " vs " + old.rows() + " on 18.16");
        }
        assertThat(RUN.keySet()).containsAll(EXPECTED.keySet());
        assertThat(problems).isEmpty();
    }

    private static boolean sameRows(List<List<String>> a, List<List<String>> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).size() != b.get(i).size()) return false;
            for (int c = 0; c < a.get(i).size(); c++) {
                String x = a.get(i).get(c), y = b.get(i).get(c);
                if (x.equals(y)) continue;
                try {
                    if (Math.abs(Double.parseDouble(x) - Double.parseDouble(y)) > 1e-9 * Math.max(1, Math.abs(Double.parseDouble(x)))) return false;
                } catch (NumberFormatException e) {
                    return false;
                }
            }
        }
        return true;
    }
}
