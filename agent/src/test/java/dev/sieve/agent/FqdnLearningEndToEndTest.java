package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * toFQDNs learning against the real datapath: the real agent enforcing the seed's {@code 03-allow-s3-egress} in
 * network namespaces, its {@link dev.sieve.agent.fqdn.AgentFqdnLearner} called as the DNS proxy calls it, then real
 * TCP connections from the uploader to a world host that answers on every address of 203.0.113.0/24 and
 * 2001:db8:99::/64 (AnyIP), so every name can have a fresh address.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FqdnLearningEndToEndTest {

    static Lab lab;
    static Pod uploader, reporter, world;
    static BackgroundProcess server;
    @TempDir
    static Path dir;
    static Path manifests;
    static Agent agent;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        lab = Lab.create(Lab.claimRandomPrefix());
        uploader = lab.addPod("uploader", "10.77.3.10", "fd00:77::3:10");
        reporter = lab.addPod("reporter", "10.77.3.20", "fd00:77::3:20");
        world = lab.addExternal("s3", "198.51.100.10", "2001:db8:51::10");
        lab.execNode("ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.10", "dev", world.hostInterface(), "onlink").orThrow("route");
        lab.execNode("ip", "-6", "route", "add", "2001:db8:99::/64", "via", "2001:db8:51::10", "dev", world.hostInterface(), "onlink").orThrow("route6");
        world.exec("ip", "route", "add", "local", "203.0.113.0/24", "dev", "lo").orThrow("anyip");
        world.exec("ip", "-6", "route", "add", "local", "2001:db8:99::/64", "dev", "lo").orThrow("anyip6");
        server = world.start("python3", "-u", "-c", ECHO_SERVER);
        assertThat(server.awaitOutput("listening", Duration.ofSeconds(10))).as(server.stderr()).isTrue();

        manifests = dir.resolve("manifests");
        Files.createDirectories(manifests);
        Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
        Path examples = Path.of(System.getProperty("sieve.repo.dir", "..")).resolve("examples/policies");
        String s3 = Files.readString(examples.resolve("03-allow-s3-egress.yaml"));
        Files.writeString(manifests.resolve("03.yaml"), s3);
        // the same policy for another workload: what the uploader learns must not open anything for it
        Files.writeString(manifests.resolve("03-reporter.yaml"), s3.replace("name: allow-s3-egress", "name: allow-s3-egress-reporter")
                .replace("app: uploader", "app: reporter"));
        agent = startAgent();
    }

    static final String ECHO_SERVER = """
            import socket, threading
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 443)); s.listen(512)
            print("listening", flush=True)
            def echo(c):
                with c:
                    while True:
                        d = c.recv(4096)
                        if not d: return
                        c.sendall(d)
            while True:
                c, _ = s.accept()
                threading.Thread(target=echo, args=(c,), daemon=True).start()
            """;

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: data-pipeline}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: uploader, namespace: data-pipeline, labels: {app: uploader}}
            spec: {nodeName: node-1}
            status: {podIPs: [{ip: 10.77.3.10}, {ip: "fd00:77::3:10"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: reporter, namespace: data-pipeline, labels: {app: reporter}}
            spec: {nodeName: node-1}
            status: {podIPs: [{ip: 10.77.3.20}, {ip: "fd00:77::3:20"}]}
            """;

    static Agent startAgent() throws Exception {
        return new Agent(AgentOptions.parse(new String[] {
                "--node-name", "node-1", "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                "--fqdn-state-file", dir.resolve("fqdn-cache.tsv").toString()}, Map.of()));
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            if (agent != null) agent.close();
        } finally {
            if (lab != null) {
                lab.close();
                Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
            }
        }
    }

    static void learn(Pod pod, String name, String address, long ttl) throws Exception {
        agent.fqdnLearner().learn(InetAddress.getByName(pod.ipv4()), List.of(name), List.of(InetAddress.getByName(address)), ttl)
                .get();
    }

    static boolean connects(Pod from, String ip) {
        return from.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "2", ip, "443").ok();
    }

    @Test
    @Order(1)
    void aThousandFreshNamesInARowEachFirstConnectionSucceeds() throws Exception {
        assertThat(connects(uploader, "203.0.113.1")).as("an unlearned world address is dropped").isFalse();
        int n = Integer.getInteger("sieve.fqdn.names", 1000);
        List<String> failed = new ArrayList<>();
        long[] nanos = new long[n];
        for (int i = 0; i < n; i++) {
            // alternate families; every name and address is new
            String addr = i % 2 == 0 ? "203.0.113." + (1 + (i / 2) % 250) : "2001:db8:99::" + Integer.toHexString(0x1000 + i);
            if (i % 2 == 0 && i / 2 >= 250) addr = "2001:db8:99::" + Integer.toHexString(0x8000 + i);
            String name = "n" + i + ".amazonaws.com";
            long t0 = System.nanoTime();
            learn(uploader, name, addr, 300);
            nanos[i] = System.nanoTime() - t0;
            if (!connects(uploader, addr)) failed.add(name + "=" + addr);
        }
        Arrays.sort(nanos);
        System.out.printf("fqdn learn -> maps written: p50 %.3f ms, p99 %.3f ms, max %.3f ms over %d fresh names%n",
                nanos[n / 2] / 1e6, nanos[(int) Math.ceil(0.99 * n) - 1] / 1e6, nanos[n - 1] / 1e6, n);
        var l = agent.fqdnLearner();
        System.out.printf("fqdn learn totals: %.1f ms of which datapath sync %.1f ms over %d answers%n",
                l.updateSecondsTotal() * 1e3, l.syncSecondsTotal() * 1e3, l.updates());
        assertThat(failed).as("first connections dropped").isEmpty();
    }

    @Test
    @Order(2)
    void anAddressLearnedForOneEndpointDoesNotOpenItForAnother() throws Exception {
        learn(uploader, "s3.amazonaws.com", "203.0.113.251", 300);
        assertThat(connects(uploader, "203.0.113.251")).isTrue();
        assertThat(connects(reporter, "203.0.113.251")).as("the reporter never resolved it").isFalse();
        learn(uploader, "evil.example.org", "203.0.113.252", 300); // no toFQDNs selector matches: nothing learned
        assertThat(connects(uploader, "203.0.113.252")).isFalse();
        learn(reporter, "s3.amazonaws.com", "203.0.113.251", 300);
        assertThat(connects(reporter, "203.0.113.251")).as("once it resolved it itself").isTrue();
    }

    @Test
    @Order(3)
    void ttlExpiryClosesNewConnectionsButNotALiveOne() throws Exception {
        learn(uploader, "live.amazonaws.com", "203.0.113.253", 1);
        learn(uploader, "idle.amazonaws.com", "203.0.113.254", 1);
        BackgroundProcess live = uploader.start("nc", "203.0.113.253", "443");
        try {
            live.send("ping-1\n");
            assertThat(live.awaitOutput("ping-1", Duration.ofSeconds(5))).isTrue();
            Thread.sleep(1500);
            agent.fqdnLearner().expireNow();
            assertThat(connects(uploader, "203.0.113.254")).as("expired and unused").isFalse();
            live.send("ping-2\n");
            assertThat(live.awaitOutput("ping-2", Duration.ofSeconds(5))).as("the live connection still passes").isTrue();
            assertThat(cacheJson()).contains("\"ip\":\"203.0.113.253\"").contains("\"source\":\"connection\"")
                    .doesNotContain("203.0.113.254");
        } finally {
            live.close();
        }
    }

    @Test
    @Order(4)
    void restartKeepsTheLearnedSet() throws Exception {
        learn(uploader, "keep.amazonaws.com", "2001:db8:99::abcd", 600);
        assertThat(connects(uploader, "2001:db8:99::abcd")).isTrue();
        agent.close(); // no cleanup: the state file and pinned maps stay
        agent = startAgent();
        assertThat(connects(uploader, "2001:db8:99::abcd")).as("after the restart").isTrue();
        assertThat(cacheJson()).contains("\"fqdn\":\"keep.amazonaws.com\"").contains("\"pod\":\"data-pipeline/uploader\"");
        assertThat(connects(uploader, "203.0.113.1")).as("what was learned before the restart").isTrue();
    }

    static String cacheJson() throws Exception {
        int port = metricsPort();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/fqdn/cache")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    static int metricsPort() {
        return agent.metricsPort();
    }
}
