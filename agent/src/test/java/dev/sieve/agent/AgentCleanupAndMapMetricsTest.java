package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.lab.Traffic;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent with small configured maps: its metrics show each map's fill level ({@code sieve_bpf_map_pressure}, as
 * Cilium's {@code cilium_bpf_map_pressure}), the failed writes ({@code sieve_datapath_sync_errors_total}) and the
 * drops the datapath counted ({@code hubble_drop_total}); with {@code --cleanup-on-exit} it leaves no pinned map
 * behind, only an empty pin root.
 */
class AgentCleanupAndMapMetricsTest {
    @TempDir
    Path dir;

    @Test
    void mapMetricsAndCleanupOnExit() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        String prefix = Lab.claimRandomPrefix();
        Path pins = DatapathConfig.of(prefix).pinDir();
        try (Lab lab = Lab.create(prefix)) {
            Pod client = lab.addPod("client", "10.77.3.10", null);
            Pod server = lab.addPod("server", "10.77.3.20", null);
            Path manifests = dir.resolve("manifests");
            Files.createDirectories(manifests);
            Files.writeString(manifests.resolve("cluster.yaml"), """
                    apiVersion: v1
                    kind: Namespace
                    metadata: {name: mm}
                    ---
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: client, namespace: mm, labels: {app: client}}
                    spec: {nodeName: node-1}
                    status: {podIP: 10.77.3.10}
                    ---
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: server, namespace: mm, labels: {app: server}}
                    spec: {nodeName: node-1}
                    status: {podIP: 10.77.3.20}
                    ---
                    apiVersion: cilium.io/v2
                    kind: CiliumNetworkPolicy
                    metadata: {name: server, namespace: mm}
                    spec:
                      endpointSelector: {matchLabels: {app: server}}
                      ingress:
                        - fromEndpoints: [{matchLabels: {app: client}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                    """);
            try (BackgroundProcess echo = Traffic.startEchoServer(server, 80, 81)) {
                Agent agent = new Agent(AgentOptions.parse(new String[] {
                        "--node-name", "node-1", "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                        "--pin-prefix", prefix, "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                        "--bpf-endpoint-map-max", "1", "--bpf-ct-global-max", "4096", "--cleanup-on-exit"}, java.util.Map.of()));
                try {
                    assertThat(Files.list(pins).toList()).as("pinned maps while running").isNotEmpty();
                    // one endpoint fits the endpoint map; the other is marked not ready and drops
                    assertThat(Traffic.tcp(client, server.ipv4(), 81, Duration.ofMillis(600))).isEqualTo(Traffic.Outcome.TIMED_OUT);
                    String m = metrics(agent.metricsPort());
                    assertThat(value(m, "sieve_bpf_map_pressure{map_name=\"sieve_endpoints_v2\"}")).isEqualTo(1.0);
                    assertThat(value(m, "sieve_bpf_map_pressure{map_name=\"sieve_ct_v2\"}")).isBetween(0.0, 1.0);
                    assertThat(m).contains("sieve_bpf_map_pressure{map_name=\"sieve_ipcache\"}",
                            "sieve_bpf_map_pressure{map_name=\"sieve_policy\"}");
                    assertThat(value(m, "sieve_datapath_sync_errors_total")).isGreaterThanOrEqualTo(1.0);
                    assertThat(value(m, "sieve_endpoints_not_ready")).isEqualTo(1.0);
                    assertThat(m).containsPattern("hubble_drop_total\\{protocol=\"TCP\",reason=\"(DROP_EP_NOT_READY|POLICY_DENIED)\"} [1-9]");
                } finally {
                    agent.close();
                }
                assertThat(Files.exists(pins)).as("--cleanup-on-exit removed " + pins).isFalse();
                assertThat(Traffic.tcp(client, server.ipv4(), 81, Duration.ofMillis(600)))
                        .as("nothing attached any more").isEqualTo(Traffic.Outcome.PASSED);
            }
        } finally {
            Datapath.unpinAll(DatapathConfig.of(prefix));
            Lab.release(prefix);
        }
    }

    static String metrics(int port) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    static double value(String metrics, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(metrics);
        assertThat(m.find()).as(series + " in\n" + metrics).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
