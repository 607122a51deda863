package dev.sieve.dashboards;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.dashboards.Dashboards.Dashboard;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.relay.support.ClickHouseServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus dashboards against what the real processes export: a node agent ({@code bin/sieve-agent})
 * enforcing the seed's examples on a lab with real traffic and pushing to a relay ({@code bin/sieve-relay},
 * ClickHouse store), plus a relay with the memory store. Every metric a panel's PromQL names exists in that
 * process's {@code /metrics}, with every label the query groups by or matches on, and every exact label
 * value it selects. The L7 metrics carry samples of real proxied requests: curl through the HTTP proxy to a
 * real server (seed example 02: a GET passes, a DELETE is refused) and dig through the DNS proxy to dnsmasq
 * (example 03: an allowed name is answered and learned for toFQDNs, another is REFUSED). Kafka is not
 * driven here (a broker in this lab would add a KRaft broker and its clients to this test): its
 * {@code sieve_proxy_kafka_*} samples come from the agent's own metrics code fed the Kafka proxy's flows.
 */
class PrometheusDashboardsTest {
    @RegisterExtension static final ClickHouseServer CH = new ClickHouseServer();
    @TempDir static Path dir;
    static final Path REPO = Path.of(System.getProperty("sieve.repo.dir", ".."));
    static final Set<String> ADDED_BY_PROMETHEUS = Set.of("instance", "job");
    static Lab lab;
    static Pod frontend, backend, database, devClient, apiServer, apiConsumer, uploader, kubeDns;
    static BackgroundProcess backendServer, dbServer, httpServer, dnsServer;
    static final String API = "10.78.1.30", DNS = "10.78.4.10", LEARNED = "198.51.100.1";
    static Process agent, relay, memoryRelay;
    static int agentMetrics, relayHttp, memoryHttp;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces (the agent's datapath)");
        int relayGrpc = ClickHouseServer.freePort();
        relayHttp = ClickHouseServer.freePort();
        relay = launch("relay", REPO.resolve("bin/sieve-relay").toString(), "--store", "clickhouse", "--clickhouse-url", CH.url(),
                "--clickhouse-database", "prom", "--grpc-address", "127.0.0.1:" + relayGrpc, "--http-address", "127.0.0.1:" + relayHttp);
        memoryHttp = ClickHouseServer.freePort();
        memoryRelay = launch("memory-relay", REPO.resolve("bin/sieve-relay").toString(), "--store", "memory",
                "--grpc-address", "127.0.0.1:" + ClickHouseServer.freePort(), "--http-address", "127.0.0.1:" + memoryHttp);

        lab = Lab.create(Lab.claimRandomPrefix());
        frontend = lab.addPod("frontend", "10.78.1.10", null);
        backend = lab.addPod("backend", "10.78.1.20", null);
        database = lab.addPod("database", "10.78.1.40", null);
        devClient = lab.addPod("dev-client", "10.78.2.10", null);
        apiServer = lab.addPod("api-server", API, null);
        apiConsumer = lab.addPod("api-consumer", "10.78.1.31", null);
        uploader = lab.addPod("uploader", "10.78.3.10", null);
        kubeDns = lab.addPod("kube-dns", DNS, null);
        backendServer = backend.start("nc", "-lk", "-p", "8080");
        dbServer = database.start("nc", "-lk", "-p", "5432");
        httpServer = apiServer.start("python3", REPO.resolve("scripts/demo/http_server.py").toString(), "80");
        dnsServer = kubeDns.start("dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                "--listen-address=" + DNS, "--port=53", "--pid-file=", "--user=root", "--local-ttl=30", "--host-record=s3.amazonaws.com," + LEARNED,
                "--host-record=evil.example.org,198.51.100.2");
        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), cluster());
        Files.copy(REPO.resolve("examples/policies/01-allow-frontend-to-backend.yaml"), manifests.resolve("01.yaml"));
        Files.copy(REPO.resolve("examples/policies/04-deny-dev-to-prod-db.yaml"), manifests.resolve("04.yaml"));
        Files.copy(REPO.resolve("examples/policies/02-api-http-filter.yaml"), manifests.resolve("02.yaml"));
        Files.copy(REPO.resolve("examples/policies/03-allow-s3-egress.yaml"), manifests.resolve("03.yaml"));
        agentMetrics = ClickHouseServer.freePort();
        agent = launch("agent", REPO.resolve("bin/sieve-agent").toString(), "--node-name", "node-1", "--manifests", manifests.toString(),
                "--netns", lab.nodeNamespace(), "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0",
                "--metrics-address", "127.0.0.1:" + agentMetrics, "--relay", "127.0.0.1:" + relayGrpc, "--spool-dir", dir.resolve("spool").toString(),
                "--cleanup-on-exit");
        waitFor("the agent's metrics", () -> scrape(agentMetrics).contains("sieve_endpoints 8"), Duration.ofSeconds(60));
        // traffic: allowed TCP (SYN, SYN-ACK, FIN), a denied connection, ICMP
        waitFor("frontend -> backend:8080 allowed", () -> frontend.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "2", "10.78.1.20", "8080").ok(), Duration.ofSeconds(30));
        devClient.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "1", "10.78.1.40", "5432");
        frontend.exec(Duration.ofSeconds(5), "ping", "-c", "1", "-W", "1", "10.78.1.20");
        // L7 through the node's proxies: HTTP (02) allowed and refused, DNS (03) answered and refused
        waitFor("GET through the HTTP proxy", () -> curl("GET").equals("200"), Duration.ofSeconds(30));
        assertThat(curl("DELETE")).as("the HTTP proxy refuses DELETE").isEqualTo("403");
        waitFor("s3.amazonaws.com through the DNS proxy", () -> dig("s3.amazonaws.com").strip().equals(LEARNED), Duration.ofSeconds(30));
        assertThat(uploader.exec(Duration.ofSeconds(10), "dig", "@" + DNS, "+tries=1", "+time=2", "evil.example.org", "A").stdout()).contains("status: REFUSED");
        waitFor("the agent's flow metrics", () -> {
            String m = scrape(agentMetrics);
            return m.contains("hubble_tcp_flags_total{") && m.contains("hubble_icmp_total{") && m.contains("hubble_drop_total{")
                    && m.contains("hubble_http_responses_total{") && m.contains("rcode=\"Policy denied\"") && m.contains("hubble_dns_responses_total{");
        }, Duration.ofSeconds(30));
        waitFor("the relay storing the agent's flows", () -> Pattern.compile("sieve_relay_node_flows_total\\{node=\"node-1\"} [1-9]").matcher(scrape(relayHttp)).find(),
                Duration.ofSeconds(60));
    }

    /** curl's status code for a request through the HTTP proxy from the api-consumer. */
    static String curl(String method) {
        return apiConsumer.exec(Duration.ofSeconds(10), "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "-X", method,
                "http://" + API + "/api/users").stdout().strip();
    }

    static String dig(String name) {
        return uploader.exec(Duration.ofSeconds(10), "dig", "@" + DNS, "+tries=1", "+time=2", "+short", name, "A").stdout();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            for (Process p : new Process[] {agent, relay, memoryRelay}) {
                if (p == null) continue;
                p.destroy();
                if (!p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
            }
        } finally {
            if (lab != null) {
                lab.close();
                Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
            }
        }
    }

    @Test
    void agentDashboardNamesWhatTheAgentExports() throws Exception {
        assertThat(check("sieve-agent-metrics", List.of(parse(scrape(agentMetrics))))).isEmpty();
    }

    @Test
    void l7DashboardNamesWhatTheAgentsProxiesExport() throws Exception {
        assertThat(check("sieve-l7-metrics", List.of(parse(scrape(agentMetrics)), parse(kafkaMetrics())))).isEmpty();
    }

    /**
     * The Kafka proxy's metrics as the agent's metrics code writes them for the Kafka proxy's flows (one request
     * allowed, one denied, their responses, an unparsable frame): what the agent exports once Kafka passes.
     */
    static String kafkaMetrics() throws IOException {
        var m = new dev.sieve.observer.metrics.FlowMetrics();
        var kafka = Layer7.getDescriptor().findFieldByName("kafka");
        java.util.function.BiFunction<L7FlowType, Integer, Layer7> record = (type, error) -> {
            var k = kafka.getMessageType();
            var msg = com.google.protobuf.DynamicMessage.newBuilder(k).setField(k.findFieldByName("api_key"), "produce")
                    .setField(k.findFieldByName("topic"), error == 29 ? "orders" : "payments").setField(k.findFieldByName("error_code"), error).build();
            try {
                return Layer7.parseFrom(com.google.protobuf.DynamicMessage.newBuilder(Layer7.getDescriptor()).setField(kafka, msg).build().toByteString())
                        .toBuilder().setType(type).setLatencyNs(2_000_000).build();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        };
        for (var f : List.of(l7Flow(Verdict.FORWARDED, record.apply(L7FlowType.REQUEST, 0)), l7Flow(Verdict.DROPPED, record.apply(L7FlowType.REQUEST, 29)),
                l7Flow(Verdict.FORWARDED, record.apply(L7FlowType.RESPONSE, 0)), l7Flow(Verdict.FORWARDED, record.apply(L7FlowType.RESPONSE, 29)),
                l7Flow(Verdict.ERROR, record.apply(L7FlowType.REQUEST, 0))))
            m.observe(f);
        StringBuilder out = new StringBuilder();
        m.write(out);
        return out.toString();
    }

    private static Flow l7Flow(Verdict v, Layer7 l7) {
        return Flow.newBuilder().setType(FlowType.L7).setVerdict(v).setTrafficDirection(TrafficDirection.INGRESS).setL7(l7)
                .setEventType(dev.sieve.api.flow.CiliumEventType.newBuilder().setType(129)).build();
    }

    /** One family per metric name: a second TYPE line for a name makes Prometheus refuse the whole scrape. */
    @Test
    void everyMetricFamilyIsDeclaredOnce() {
        for (String text : List.of(scrape(agentMetrics), scrape(relayHttp), scrape(memoryHttp))) {
            List<String> types = text.lines().filter(l -> l.startsWith("# TYPE ")).map(l -> l.split(" ")[2]).toList();
            assertThat(types).isNotEmpty().doesNotHaveDuplicates();
        }
    }

    @Test
    void relayDashboardNamesWhatTheRelayExports() throws Exception {
        assertThat(check("sieve-relay-metrics", List.of(parse(scrape(relayHttp)), parse(scrape(memoryHttp))))).isEmpty();
    }

    /** Hubble's names and labels (Cilium pkg/hubble/metrics) as the agent exports them, which the community dashboard selects. */
    @Test
    void agentExportsHubblesMetricsWithHubblesLabels() throws Exception {
        Map<String, List<Map<String, String>>> m = parse(scrape(agentMetrics));
        assertThat(labelNames(m, "hubble_flows_processed_total")).isEqualTo(Set.of("protocol", "type", "subtype", "verdict"));
        assertThat(labelNames(m, "hubble_drop_total")).isEqualTo(Set.of("reason", "protocol"));
        assertThat(labelNames(m, "hubble_policy_verdicts_total")).isEqualTo(Set.of("direction", "match", "action"));
        assertThat(labelNames(m, "hubble_tcp_flags_total")).isEqualTo(Set.of("flag", "family"));
        assertThat(labelNames(m, "hubble_port_distribution_total")).isEqualTo(Set.of("protocol", "port"));
        assertThat(labelNames(m, "hubble_icmp_total")).isEqualTo(Set.of("family", "type"));
        assertThat(labelNames(m, "hubble_lost_events_total")).isEqualTo(Set.of("source"));
        assertThat(m.get("hubble_drop_total")).anySatisfy(l -> assertThat(l).containsEntry("reason", "POLICY_DENY").containsEntry("protocol", "TCP"));
        assertThat(m.get("hubble_tcp_flags_total")).anySatisfy(l -> assertThat(l).containsEntry("flag", "SYN").containsEntry("family", "IPv4"));
        assertThat(m.get("hubble_tcp_flags_total")).anySatisfy(l -> assertThat(l).containsEntry("flag", "SYN-ACK"));
        assertThat(m.get("hubble_port_distribution_total")).anySatisfy(l -> assertThat(l).containsEntry("port", "8080").containsEntry("protocol", "TCP"));
        assertThat(m.get("hubble_icmp_total")).anySatisfy(l -> assertThat(l).containsEntry("family", "IPv4").containsEntry("type", "EchoRequest"));
        assertThat(m.get("hubble_policy_verdicts_total")).anySatisfy(l -> assertThat(l).containsEntry("action", "forwarded").containsEntry("direction", "ingress"));
        assertThat(m.get("hubble_flows_processed_total")).anySatisfy(l -> assertThat(l).containsEntry("type", "PolicyVerdict").containsEntry("protocol", "TCP"));
        // L7 (pkg/hubble/metrics/http and dns, without context labels), from the proxied requests above
        assertThat(labelNames(m, "hubble_http_requests_total")).isEqualTo(Set.of("method", "protocol", "reporter"));
        assertThat(labelNames(m, "hubble_http_responses_total")).isEqualTo(Set.of("method", "protocol", "reporter", "status"));
        assertThat(labelNames(m, "hubble_http_request_duration_seconds_bucket")).isEqualTo(Set.of("method", "reporter", "le"));
        assertThat(labelNames(m, "hubble_dns_queries_total")).isEqualTo(Set.of("rcode", "qtypes", "ips_returned"));
        assertThat(labelNames(m, "hubble_dns_responses_total")).isEqualTo(Set.of("rcode", "qtypes", "ips_returned"));
        assertThat(labelNames(m, "hubble_dns_response_types_total")).isEqualTo(Set.of("type", "qtypes"));
        assertThat(m.get("hubble_http_requests_total")).anySatisfy(l -> assertThat(l).containsEntry("method", "DELETE").containsEntry("reporter", "server"));
        assertThat(m.get("hubble_http_responses_total")).anySatisfy(l -> assertThat(l).containsEntry("method", "GET").containsEntry("status", "200"));
        assertThat(m.get("hubble_http_responses_total")).anySatisfy(l -> assertThat(l).containsEntry("method", "DELETE").containsEntry("status", "403"));
        assertThat(m.get("hubble_dns_queries_total")).anySatisfy(l -> assertThat(l).containsEntry("rcode", "Policy denied").containsEntry("qtypes", "A"));
        assertThat(m.get("hubble_dns_responses_total")).anySatisfy(l -> assertThat(l).containsEntry("rcode", "No Error").containsEntry("ips_returned", "1"));
        assertThat(m.get("hubble_dns_response_types_total")).anySatisfy(l -> assertThat(l).containsEntry("type", "A").containsEntry("qtypes", "A"));
        assertThat(m.get("hubble_policy_verdicts_total")).anySatisfy(l -> assertThat(l).containsEntry("match", "l7/http").containsEntry("action", "dropped"));
        assertThat(m.get("hubble_policy_verdicts_total")).anySatisfy(l -> assertThat(l).containsEntry("match", "l7/dns").containsEntry("action", "forwarded"));
        assertThat(m.get("sieve_fqdn_learned_total")).anySatisfy(l -> assertThat(l).isEmpty());
    }

    // ---------------------------------------------------------------- PromQL against an exposition

    static final Pattern SELECTOR = Pattern.compile("\\b((?:hubble|sieve)_[A-Za-z0-9_]+)\\s*(\\{([^}]*)})?");
    static final Pattern MATCHER = Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*");
    static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");

    static List<String> check(String uid, List<Map<String, List<Map<String, String>>>> expositions) {
        Dashboard d = Dashboards.all().stream().filter(x -> x.uid().equals(uid)).findFirst().orElseThrow();
        List<String> problems = new ArrayList<>();
        int selectors = 0;
        for (JsonNode p : d.panels())
            for (JsonNode t : p.path("targets")) {
                String expr = t.path("expr").asText(), where = d + " \"" + p.path("title").asText() + "\" " + t.path("refId").asText();
                Set<String> metrics = new HashSet<>();
                Matcher s = SELECTOR.matcher(expr);
                while (s.find()) {
                    selectors++;
                    String metric = s.group(1);
                    metrics.add(metric);
                    List<Map<String, String>> samples = samples(expositions, metric);
                    if (samples.isEmpty()) {
                        problems.add(where + ": " + metric + " is not exported");
                        continue;
                    }
                    if (s.group(3) == null) continue;
                    for (String m : s.group(3).split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")) {
                        if (m.isBlank()) continue;
                        Matcher mm = MATCHER.matcher(m);
                        if (!mm.matches()) {
                            problems.add(where + ": cannot read label matcher '" + m + "'");
                            continue;
                        }
                        String label = mm.group(1), op = mm.group(2), value = mm.group(3);
                        if (ADDED_BY_PROMETHEUS.contains(label)) continue;
                        if (samples.stream().noneMatch(l -> l.containsKey(label))) problems.add(where + ": " + metric + " has no label " + label);
                        else if (op.equals("=") && samples.stream().noneMatch(l -> value.equals(l.get(label))))
                            problems.add(where + ": no " + metric + " sample with " + label + "=\"" + value + "\"");
                    }
                }
                Matcher g = GROUPING.matcher(expr);
                while (g.find())
                    for (String label : g.group(1).split(",")) {
                        String l = label.trim();
                        if (l.isEmpty() || ADDED_BY_PROMETHEUS.contains(l)) continue;
                        if (metrics.stream().noneMatch(m -> samples(expositions, m).stream().anyMatch(x -> x.containsKey(l))))
                            problems.add(where + ": groups by " + l + ", which none of " + metrics + " has");
                    }
            }
        if (selectors == 0) problems.add(uid + ": no metric selectors found");
        return problems;
    }

    private static List<Map<String, String>> samples(List<Map<String, List<Map<String, String>>>> expositions, String metric) {
        List<Map<String, String>> out = new ArrayList<>();
        for (var e : expositions) out.addAll(e.getOrDefault(metric, List.of()));
        return out;
    }

    private static Set<String> labelNames(Map<String, List<Map<String, String>>> m, String metric) {
        Set<String> names = new HashSet<>();
        assertThat(m).as(metric).containsKey(metric);
        m.get(metric).forEach(l -> names.addAll(l.keySet()));
        return names;
    }

    static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)(\\{(.*)})?\\s+\\S+$");
    static final Pattern LABEL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Prometheus text format: sample name -> label sets. */
    static Map<String, List<Map<String, String>>> parse(String text) {
        Map<String, List<Map<String, String>>> out = new HashMap<>();
        for (String line : text.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) throw new AssertionError("not a Prometheus sample line: " + line);
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) labels.put(l.group(1), l.group(2));
            }
            out.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(labels);
        }
        return out;
    }

    // ---------------------------------------------------------------- processes

    static Process launch(String name, String... cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
    }

    static String scrape(int port) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void waitFor(String what, Condition c, Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (!c.holds()) {
            for (Process p : new Process[] {agent, relay, memoryRelay})
                if (p != null && !p.isAlive()) throw new AssertionError(what + ": a process exited; logs in " + dir + ":\n" + logs());
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what + "\n" + logs());
            Thread.sleep(200);
        }
    }

    private static String logs() throws IOException {
        StringBuilder b = new StringBuilder();
        for (String n : List.of("relay", "memory-relay", "agent")) {
            Path f = dir.resolve(n + ".log");
            if (!Files.exists(f)) continue;
            String s = Files.readString(f);
            b.append("--- ").append(n).append('\n').append(s, Math.max(0, s.length() - 3000), s.length()).append('\n');
        }
        return b.toString();
    }

    static String cluster() {
        return """
            apiVersion: v1
            kind: Namespace
            metadata: {name: production}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: development}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: frontend, namespace: production, labels: {app: frontend}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: backend, namespace: production, labels: {app: backend}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.20}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: database, namespace: production, labels: {app: database, env: production}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.40}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: dev-client, namespace: development, labels: {app: client}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.2.10}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: data-pipeline}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: kube-system}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: api-server, namespace: production, labels: {app: api-server}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.30}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: api-consumer, namespace: production, labels: {role: api-consumer}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.31}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: uploader, namespace: data-pipeline, labels: {app: uploader}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.3.10}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.4.10}
            """;
    }
}
