package dev.sieve.dashboards;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sieve.dashboards.Dashboards.Dashboard;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Every dashboard is a Grafana dashboard the provisioning can load: schema version, unique uids and panel ids,
 * panels on the 24-column grid, every data source one the provisioning defines (uid and type), every
 * variable a query, link or title uses defined, ClickHouse queries in the plugin's v4 SQL shape, node graphs
 * with their nodes and edges queries.
 */
class DashboardStructureTest {
    static final Set<String> PANEL_TYPES = Set.of("timeseries", "table", "stat", "bargauge", "nodegraph", "row");

    @SuppressWarnings("unchecked")
    static Map<String, String> provisionedDatasources() throws Exception {
        Load yaml = new Load(LoadSettings.builder().build());
        Map<String, Object> doc = (Map<String, Object>) yaml.loadFromString(Files.readString(Dashboards.DIR.resolve("provisioning/datasources/sieve.yaml")));
        Map<String, String> byUid = new HashMap<>();
        for (Object o : (List<Object>) doc.get("datasources")) {
            Map<String, Object> ds = (Map<String, Object>) o;
            byUid.put((String) ds.get("uid"), (String) ds.get("type"));
        }
        return byUid;
    }

    @Test
    void provisioningDefinesBothDataSourcesAndTheDashboardFolder() throws Exception {
        assertThat(provisionedDatasources()).containsEntry("sieve-clickhouse", Dashboards.CLICKHOUSE).containsEntry("sieve-prometheus", Dashboards.PROMETHEUS);
        Object providers = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(Dashboards.DIR.resolve("provisioning/dashboards/sieve.yaml")));
        assertThat(providers.toString()).contains("type=file").contains("foldersFromFilesStructure=true");
    }

    @Test
    void everyDashboardIsWellFormed() throws Exception {
        Map<String, String> datasources = provisionedDatasources();
        List<String> problems = new ArrayList<>();
        Set<String> uids = new HashSet<>();
        List<Dashboard> all = Dashboards.all();
        assertThat(all).extracting(Dashboard::uid).contains("sieve-overview", "sieve-policy", "sieve-workloads", "sieve-flows", "sieve-dns", "sieve-http",
                "sieve-agent-metrics", "sieve-relay-metrics");
        for (Dashboard d : all) {
            JsonNode j = d.json();
            if (!uids.add(d.uid()) || d.uid().isEmpty() || d.uid().length() > 40) problems.add(d + ": uid '" + d.uid() + "' empty, too long or not unique");
            if (j.path("title").asText().isEmpty()) problems.add(d + ": no title");
            if (j.path("schemaVersion").asInt() < 36) problems.add(d + ": schemaVersion " + j.path("schemaVersion") + " < 36");
            Set<String> vars = new HashSet<>();
            for (JsonNode v : d.variables()) {
                if (!vars.add(v.path("name").asText())) problems.add(d + ": variable " + v.path("name") + " defined twice");
                if (v.has("datasource")) checkDatasource(d + " variable " + v.path("name"), v.path("datasource"), datasources, problems);
            }
            Set<Integer> ids = new HashSet<>();
            if (d.panels().isEmpty()) problems.add(d + ": no panels");
            for (JsonNode p : d.panels()) {
                String where = d + " panel " + p.path("id") + " \"" + p.path("title").asText() + "\"";
                if (!ids.add(p.path("id").asInt()) || p.path("id").asInt() <= 0) problems.add(where + ": id missing or not unique");
                if (!PANEL_TYPES.contains(p.path("type").asText())) problems.add(where + ": panel type " + p.path("type") + " is not one of " + PANEL_TYPES);
                JsonNode g = p.path("gridPos");
                if (!g.has("h") || !g.has("w") || !g.has("x") || !g.has("y") || g.path("x").asInt() + g.path("w").asInt() > 24)
                    problems.add(where + ": gridPos " + g + " missing a field or wider than 24 columns");
                if (p.path("type").asText().equals("row")) continue;
                checkDatasource(where, p.path("datasource"), datasources, problems);
                if (p.path("targets").isEmpty()) problems.add(where + ": no queries");
                Set<String> refIds = new HashSet<>();
                for (JsonNode t : p.path("targets")) {
                    if (!refIds.add(t.path("refId").asText())) problems.add(where + ": refId " + t.path("refId") + " not unique");
                    if (!t.path("datasource").equals(p.path("datasource"))) problems.add(where + " " + t.path("refId") + ": data source differs from the panel's");
                    String type = p.path("datasource").path("type").asText();
                    if (type.equals(Dashboards.CLICKHOUSE)) {
                        if (!t.path("editorType").asText().equals("sql") || t.path("rawSql").asText().isBlank()) problems.add(where + ": not a v4 SQL query (editorType sql, rawSql)");
                        boolean ts = t.path("queryType").asText().equals("timeSeries");
                        if (ts != (t.path("format").asInt(-1) == 0) || !(ts || t.path("queryType").asText().equals("table") && t.path("format").asInt() == 1))
                            problems.add(where + ": queryType " + t.path("queryType") + " and format " + t.path("format") + " disagree");
                    } else if (t.path("expr").asText().isBlank()) problems.add(where + ": no PromQL expr");
                }
                if (p.path("type").asText().equals("nodegraph") && !refIds.containsAll(Set.of("nodes", "edges"))) problems.add(where + ": a node graph needs queries nodes and edges");
            }
            // every $variable anywhere in the dashboard (queries, links, titles, variable queries) is defined
            Matcher m = GrafanaQuery.VARIABLE.matcher(j.toString());
            while (m.find()) {
                String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4);
                if (name.startsWith("__")) continue; // Grafana's built-ins and the plugin's macros
                if (!vars.contains(name)) problems.add(d + ": uses $" + name + ", which no variable defines");
            }
        }
        assertThat(problems).isEmpty();
    }

    private static void checkDatasource(String where, JsonNode ds, Map<String, String> provisioned, List<String> problems) {
        String uid = ds.path("uid").asText();
        if (!provisioned.containsKey(uid)) problems.add(where + ": data source uid '" + uid + "' is not provisioned (" + provisioned.keySet() + ")");
        else if (!provisioned.get(uid).equals(ds.path("type").asText())) problems.add(where + ": data source " + uid + " has type " + ds.path("type") + ", provisioned as " + provisioned.get(uid));
    }
}
