package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The HTTP proxy itself through the real datapath and the real agent (the redirection tests use a relaying test
 * protocol): an egress L7 rule (the getter may only GET), IPv6, a request pipelined behind a denied one, a
 * request split across many TCP segments, a 1 MB body streamed both ways of framing, and the proxy killed
 * mid-stream (its connections fail, a connection it does not carry goes on, and it comes back). The server is
 * the demo's {@code scripts/demo/http_server.py}, the clients curl and Python sockets.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpProxyEndToEndTest {

    static final String SERVER4 = "10.78.1.20", SERVER6 = "fd00:78::20";
    static final String CLIENT4 = "10.78.1.30", CLIENT6 = "fd00:78::30";
    static final String GETTER4 = "10.78.1.40", GETTER6 = "fd00:78::40";

    AgentLab node;
    Pod server, client, getter;
    BackgroundProcess http;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        node = AgentLab.create("http-e2e");
        server = node.lab.addPod("server", SERVER4, SERVER6);
        client = node.lab.addPod("client", CLIENT4, CLIENT6);
        getter = node.lab.addPod("getter", GETTER4, GETTER6);
        // 80: the client's requests judged at the server's ingress; 8080: the getter's at its egress; 9090: no L7 rule
        http = server.start("python3", AgentLab.repo().resolve("scripts/demo/http_server.py").toString(), "80", "8080", "9090");
        Files.writeString(node.dir.resolve("raw.py"), RAW_CLIENT_PY);
        node.manifest("cluster.yaml", CLUSTER);
        node.start();
        for (int i = 0; i < 100 && !get(client, SERVER4, 80, "/ready").stdout().startsWith("200"); i++) Thread.sleep(100);
        for (int i = 0; i < 100 && !get(getter, SERVER4, 8080, "/ready").stdout().startsWith("200"); i++) Thread.sleep(100);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (node != null) node.close();
    }

    static ExecResult get(Pod from, String address, int port, String path, String... more) {
        return AgentLab.curl(from, "GET", AgentLab.url(address, port, path), more);
    }

    /** The raw client: sends each argument as it is given (escapes \r\n), one byte per segment with "--split". */
    ExecResult raw(Pod from, String address, int port, String... args) {
        String[] cmd = new String[args.length + 4];
        cmd[0] = "python3";
        cmd[1] = node.dir.resolve("raw.py").toString();
        cmd[2] = address;
        cmd[3] = Integer.toString(port);
        System.arraycopy(args, 0, cmd, 4, args.length);
        return from.exec(Duration.ofSeconds(20), cmd);
    }

    @Test
    void anEgressRuleLetsTheGetterOnlyGetIPv4AndIPv6() throws Exception {
        for (String[] a : List.of(new String[] {SERVER4, GETTER4}, new String[] {SERVER6, GETTER6})) {
            String path = "/items/" + a[0].replace(':', '-');
            ExecResult ok = get(getter, a[0], 8080, path);
            assertThat(ok.stdout()).startsWith("200\n").contains("\"client\": \"" + a[1] + "\"");
            ExecResult delete = AgentLab.curl(getter, "DELETE", AgentLab.url(a[0], 8080, path));
            assertThat(delete.stdout()).isEqualTo("403\nAccess denied");

            Flow denied = node.flows(f -> AgentLab.httpRequest(f, "DELETE", path)).getLast();
            assertThat(denied.getVerdict()).isEqualTo(Verdict.DROPPED);
            assertThat(denied.getIP().getSource()).isEqualTo(a[1]);
            assertThat(denied.getSource().getPodName()).isEqualTo("getter");
            assertThat(denied.getEgressDeniedByList()).extracting(p -> p.getName()).contains("getter-only-gets");
            assertThat(node.flows(f -> AgentLab.httpRequest(f, "GET", path)).getLast().getEgressAllowedByList())
                    .extracting(p -> p.getName()).contains("getter-only-gets");
        }
        assertThat(http.stdout()).as("no DELETE reached the server").doesNotContain("\"DELETE /items");
        // the client's requests on the same port are not judged by the getter's egress rule
        assertThat(AgentLab.curl(client, "DELETE", AgentLab.url(SERVER4, 8080, "/x")).stdout()).as("not an L7 port for it").startsWith("000");
    }

    @Test
    void ingressRulesOverIPv6() throws Exception {
        ExecResult ok = get(client, SERVER6, 80, "/v6/users");
        assertThat(ok.stdout()).startsWith("200\n").contains("\"client\": \"" + CLIENT6 + "\"");
        assertThat(AgentLab.curl(client, "DELETE", AgentLab.url(SERVER6, 80, "/v6/users")).stdout()).isEqualTo("403\nAccess denied");
        Flow d = node.flows(f -> AgentLab.httpRequest(f, "DELETE", "/v6/users")).getLast();
        assertThat(d.getVerdict()).isEqualTo(Verdict.DROPPED);
        assertThat(d.getIP().getSource()).isEqualTo(CLIENT6);
        assertThat(d.getIP().getDestination()).isEqualTo(SERVER6);
        assertThat(d.getIngressDeniedByList()).extracting(p -> p.getName()).contains("server-ingress");
    }

    @Test
    void aRequestPipelinedBehindADeniedOneIsRelayedInItsTurn() {
        ExecResult r = raw(client, SERVER4, 80,
                "DELETE /pipe/1 HTTP/1.1\r\nHost: s\r\n\r\nGET /pipe/2 HTTP/1.1\r\nHost: s\r\n\r\n"
                        + "GET /pipe/3 HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
        String out = r.stdout();
        assertThat(out).as(r.toString()).startsWith("HTTP/1.1 403 ");
        int denied = out.indexOf("Access denied"), second = out.indexOf("\"path\": \"/pipe/2\""), third = out.indexOf("\"path\": \"/pipe/3\"");
        assertThat(denied).isPositive();
        assertThat(second).as(out).isGreaterThan(denied);
        assertThat(third).as(out).isGreaterThan(second);
        assertThat(http.stdout()).doesNotContain("DELETE /pipe/1");
    }

    @Test
    void aRequestSplitAcrossManySegmentsIsJudgedWhole() {
        String body = "x".repeat(300);
        ExecResult r = raw(client, SERVER4, 80, "--split",
                "POST /upload HTTP/1.1\r\nHost: s\r\nContent-Length: 300\r\nConnection: close\r\n\r\n" + body);
        assertThat(r.stdout()).as(r.toString()).startsWith("HTTP/1.1 200 ").contains("\"bytes\": 300").contains("\"client\": \"" + CLIENT4 + "\"");
        ExecResult denied = raw(client, SERVER4, 80, "--split", "DELETE /upload HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
        assertThat(denied.stdout()).as(denied.toString()).startsWith("HTTP/1.1 403 ");
    }

    @Test
    void aOneMegabyteBodyIsStreamedThroughWithALengthAndChunked() throws Exception {
        byte[] data = new byte[1 << 20];
        new Random(14).nextBytes(data);
        Path file = node.dir.resolve("body.bin");
        Files.write(file, data);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        for (String[] framing : List.of(new String[0], new String[] {"-H", "Transfer-Encoding: chunked"})) {
            String[] more = new String[framing.length + 2];
            more[0] = "--data-binary";
            more[1] = "@" + file;
            System.arraycopy(framing, 0, more, 2, framing.length);
            ExecResult r = AgentLab.curl(client, "POST", AgentLab.url(SERVER4, 80, "/upload"), more);
            assertThat(r.stdout()).as(r.toString()).startsWith("200\n").contains("\"bytes\": " + data.length).contains("\"sha256\": \"" + sha + "\"");
        }
    }

    @Test
    void theProxyKilledMidStreamFailsItsConnectionsOnlyAndComesBack() throws Exception {
        String[] w = {"-m", "20", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"};
        // a thread each (the common pool may have one thread on a small machine: they would run one after the other)
        java.util.concurrent.Executor thread = r -> Thread.ofPlatform().daemon().start(r);
        CompletableFuture<ExecResult> redirected = CompletableFuture.supplyAsync(() -> client.exec(Duration.ofSeconds(30),
                concat(new String[] {"curl", "-s"}, w, AgentLab.url(SERVER4, 80, "/slow/40"))), thread);
        CompletableFuture<ExecResult> direct = CompletableFuture.supplyAsync(() -> client.exec(Duration.ofSeconds(30),
                concat(new String[] {"curl", "-s"}, w, AgentLab.url(SERVER4, 9090, "/slow/40"))), thread);
        // both responses are flowing (the server logs a request when it starts its answer)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (count(http.stdout(), "GET /slow/40") < 2 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(count(http.stdout(), "GET /slow/40")).isEqualTo(2);
        Thread.sleep(300);
        assertThat(node.agent.proxy().kill()).as("connections the proxy carried when it died").isPositive();
        try {
            ExecResult cut = redirected.get(30, TimeUnit.SECONDS);
            assertThat(cut.exitCode()).as("the redirected transfer fails: " + cut).isNotZero();
            assertThat(Integer.parseInt(cut.stdout().split(" ")[1])).isLessThan(40 * 1024);
            assertThat(get(client, SERVER4, 80, "/while-down", "-m", "2").stdout()).as("new redirected connections fail closed").startsWith("000");
            assertThat(get(client, SERVER4, 9090, "/while-down").stdout()).as("no L7 rule: unaffected").startsWith("200\n");
        } finally {
            node.agent.proxy().resume();
        }
        ExecResult whole = direct.get(30, TimeUnit.SECONDS);
        assertThat(whole.stdout()).as("the connection the proxy does not carry went on: " + whole).isEqualTo("200 40960");
        ExecResult back = get(client, SERVER4, 80, "/back");
        assertThat(back.stdout()).as("the proxy is back").startsWith("200\n").contains("\"client\": \"" + CLIENT4 + "\"");
        assertThat(AgentLab.curl(client, "DELETE", AgentLab.url(SERVER4, 80, "/back")).stdout()).isEqualTo("403\nAccess denied");
    }

    static int count(String s, String what) {
        int n = 0;
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
        return n;
    }

    static String[] concat(String[] a, String[] b, String last) {
        String[] out = new String[a.length + b.length + 1];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        out[out.length - 1] = last;
        return out;
    }

    static final String RAW_CLIENT_PY = """
            import socket, sys, time
            host, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
            split = args[0] == '--split'
            data = (args[1] if split else args[0]).encode()
            s = socket.create_connection((host, port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if split:
                for i in range(len(data)):
                    s.sendall(data[i:i + 1])
                    time.sleep(0.002)
            else:
                s.sendall(data)
            out = b''
            while True:
                d = s.recv(65536)
                if not d:
                    break
                out += d
            sys.stdout.write(out.decode(errors='replace'))
            """;

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: shop}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: server, namespace: shop, labels: {app: server}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.20, podIPs: [{ip: 10.78.1.20}, {ip: "fd00:78::20"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: client, namespace: shop, labels: {app: client}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.30, podIPs: [{ip: 10.78.1.30}, {ip: "fd00:78::30"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: getter, namespace: shop, labels: {app: getter}}
            spec: {nodeName: node-1}
            status: {podIP: 10.78.1.40, podIPs: [{ip: 10.78.1.40}, {ip: "fd00:78::40"}]}
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: server-ingress, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: server}}
              ingress:
                - fromEndpoints: [{matchLabels: {app: client}}]
                  toPorts:
                    - ports: [{port: "80", protocol: TCP}]
                      rules:
                        http: [{method: GET}, {method: POST, path: /upload}]
                - fromEndpoints: [{matchLabels: {app: client}}]
                  toPorts:
                    - ports: [{port: "9090", protocol: TCP}]
                - fromEndpoints: [{matchLabels: {app: getter}}]
                  toPorts:
                    - ports: [{port: "8080", protocol: TCP}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: getter-only-gets, namespace: shop}
            spec:
              endpointSelector: {matchLabels: {app: getter}}
              egress:
                - toEndpoints: [{matchLabels: {app: server}}]
                  toPorts:
                    - ports: [{port: "8080", protocol: TCP}]
                      rules:
                        http: [{method: GET}]
            """;
}
