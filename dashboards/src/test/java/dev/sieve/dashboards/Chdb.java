package dev.sieve.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sieve.dashboards.ClickHouseDashboardsTest.Ran;
import dev.sieve.dashboards.ClickHouseDashboardsTest.Result;
import dev.sieve.relay.store.clickhouse.Schema;
import dev.sieve.relay.store.clickhouse.Sql;
import dev.sieve.relay.support.ClickHouseServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A current ClickHouse engine: the npm package chdb (its bundled libchdb) run by Node from dashboards/chdb,
 * installed there with {@code npm install} (npm 11's ci rejects a lockfile that leaves out the other platforms' optional packages) on first use. The relay's migrations create the schema and views, the
 * raw rows of 18.16's {@code flows} and {@code label_sets} are inserted (the views fill the aggregates
 * themselves), then the queries run.
 */
final class Chdb {
    private Chdb() {}

    static final Path DIR = Dashboards.DIR.resolve("chdb");

    static Map<String, Result> run(String db, ClickHouseServer from, Map<String, Ran> queries) throws Exception {
        install();
        List<String> setup = new ArrayList<>();
        setup.add("CREATE DATABASE IF NOT EXISTS " + Sql.ident(db));
        for (Schema.Migration m : Schema.migrations())
            for (String st : m.statements()) setup.add(st.replace("{db}", Sql.ident(db)));
        for (String table : List.of("flows", "label_sets")) {
            String values = from.sql("SELECT * FROM " + db + "." + table + " FORMAT Values");
            if (!values.isBlank()) setup.add("INSERT INTO " + Sql.ident(db) + "." + table + " VALUES " + values);
        }
        Map<String, String> sql = new LinkedHashMap<>();
        queries.forEach((k, v) -> sql.put(k, v.sql()));
        ObjectMapper json = new ObjectMapper();
        Path in = Files.createTempFile("sieve-chdb-in-", ".json"), out = Files.createTempFile("sieve-chdb-out-", ".json");
        try {
            json.writeValue(in.toFile(), Map.of("setup", setup, "queries", sql));
            ProcessBuilder pb = new ProcessBuilder("node", "run.mjs", in.toString(), out.toString()).directory(DIR.toFile()).redirectErrorStream(true);
            pb.environment().put("TZ", "UTC");
            Process p = pb.start();
            String log = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("chdb did not finish in 300 s: " + log);
            }
            if (p.exitValue() != 0) throw new IllegalStateException("chdb failed (exit " + p.exitValue() + "): " + log);
            JsonNode r = json.readTree(out.toFile());
            System.out.println("current ClickHouse engine (chdb): " + r.path("version").asText());
            Map<String, Result> results = new LinkedHashMap<>();
            List<String> errors = new ArrayList<>();
            r.path("results").fields().forEachRemaining(e -> {
                if (e.getValue().has("error")) errors.add(e.getKey() + ": " + e.getValue().path("error").asText() + "\n" + sql.get(e.getKey()));
                else {
                    List<String> lines = e.getValue().path("tsv").asText().lines().toList();
                    results.put(e.getKey(), new Result(lines.isEmpty() ? List.of() : Arrays.asList(lines.getFirst().split("\t", -1)),
                            lines.stream().skip(1).map(l -> Arrays.asList(l.split("\t", -1))).toList()));
                }
            });
            if (!errors.isEmpty()) throw new AssertionError("the current ClickHouse engine refused queries:\n" + String.join("\n\n", errors));
            return results;
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
        }
    }

    private static synchronized void install() throws IOException, InterruptedException {
        if (Files.isDirectory(DIR.resolve("node_modules/chdb"))) return;
        Process p = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund").directory(DIR.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("npm install in " + DIR + " failed: " + log);
    }
}
