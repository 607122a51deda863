package dev.sieve.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The dashboard files under dashboards/grafana and their panels' queries. */
final class Dashboards {
    private Dashboards() {}

    static final Path DIR = Path.of(System.getProperty("sieve.repo.dir", "..")).resolve("dashboards");
    static final String CLICKHOUSE = "grafana-clickhouse-datasource", PROMETHEUS = "prometheus";

    record Dashboard(Path file, JsonNode json) {
        String uid() {
            return json.path("uid").asText();
        }

        List<JsonNode> panels() {
            List<JsonNode> out = new ArrayList<>();
            json.path("panels").forEach(p -> {
                out.add(p);
                p.path("panels").forEach(out::add); // panels inside a collapsed row
            });
            return out;
        }

        List<JsonNode> variables() {
            List<JsonNode> out = new ArrayList<>();
            json.path("templating").path("list").forEach(out::add);
            return out;
        }

        JsonNode variable(String name) {
            return variables().stream().filter(v -> v.path("name").asText().equals(name)).findFirst().orElse(null);
        }

        @Override
        public String toString() {
            return DIR.relativize(file).toString();
        }
    }

    /** One query of one panel: what a check reports failures against. */
    record Query(Dashboard dashboard, JsonNode panel, JsonNode target) {
        String where() {
            return dashboard + " panel " + panel.path("id").asInt() + " \"" + panel.path("title").asText() + "\" " + target.path("refId").asText();
        }

        String key() {
            return dashboard.uid() + "/" + panel.path("title").asText() + "/" + target.path("refId").asText();
        }

        String sql() {
            return target.path("rawSql").asText();
        }
    }

    static List<Dashboard> all() {
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> files = Files.walk(DIR.resolve("grafana"))) {
            List<Dashboard> out = new ArrayList<>();
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                try {
                    out.add(new Dashboard(f, json.readTree(f.toFile())));
                } catch (IOException e) {
                    throw new IllegalStateException(DIR.relativize(f) + ": not valid JSON: " + e.getMessage(), e);
                }
            }
            if (out.isEmpty()) throw new IllegalStateException("no dashboards under " + DIR.resolve("grafana"));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Query> queries(String datasourceType) {
        List<Query> out = new ArrayList<>();
        for (Dashboard d : all())
            for (JsonNode p : d.panels())
                for (JsonNode t : p.path("targets"))
                    if (t.path("datasource").path("type").asText(p.path("datasource").path("type").asText()).equals(datasourceType)) out.add(new Query(d, p, t));
        return out;
    }
}
