package dev.sieve.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.events.AgentEventHub;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.observer.server.ObserverServer;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.tls.ClientTls;
import dev.sieve.tls.ServerTls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * mTLS with certificates from {@code bin/sieve certs generate}, the real relay process ({@code bin/sieve-relay} with
 * --tls-cert-file, --tls-client-ca-files and --ingest-client-ca-files), a node's Observer server and push with TLS, and
 * the stock hubble CLI as the client: what is trusted works, what is not is refused, a node pushes only under its
 * certificate's name, and certificates are reloaded without a restart.
 */
class TlsEndToEndTest {
    static final Path REPO = HubbleCliCompatibilityTest.REPO;
    static final Path HUBBLE = HubbleCliCompatibilityTest.HUBBLE;
    static final Path SIEVE = REPO.resolve("bin/sieve");

    @TempDir
    static Path dir;
    static Path certs, other;
    static Process relay;
    static String relayAddress;
    static int httpPort;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(Files.isExecutable(HUBBLE), "needs the stock hubble CLI at " + HUBBLE);
        assumeTrue(Files.isRegularFile(REPO.resolve("relay/target/quarkus-app/quarkus-run.jar")), "needs the built relay");
        certs = dir.resolve("certs");
        other = dir.resolve("other"); // a second CA: nobody trusts it
        for (Path out : List.of(certs, other)) {
            Result r = run(SIEVE, "certs", "generate", "--out", out.toString(), "--relay-name", "relay.sieve.test", "--nodes", "node-a,node-b");
            assertThat(r.code()).as(r.err()).isZero();
        }
        int grpc = HubbleCliCompatibilityTest.freePort();
        httpPort = HubbleCliCompatibilityTest.freePort();
        relayAddress = "127.0.0.1:" + grpc;
        // the relay's own files are copies, so the reload test can replace them
        Files.copy(certs.resolve("relay.crt"), dir.resolve("relay.crt"));
        Files.copy(certs.resolve("relay.key"), dir.resolve("relay.key"));
        relay = new ProcessBuilder(REPO.resolve("bin/sieve-relay").toString(), "--store", "memory", "--grpc-address", relayAddress,
                "--http-address", "127.0.0.1:" + httpPort, "--tls-cert-file", dir.resolve("relay.crt").toString(),
                "--tls-key-file", dir.resolve("relay.key").toString(), "--tls-client-ca-files", certs.resolve("ca.crt").toString(),
                "--ingest-client-ca-files", certs.resolve("ca.crt").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("relay.log").toFile()).start();
        HubbleCliCompatibilityTest.awaitPort(relay, dir.resolve("relay.log"), grpc, Duration.ofSeconds(90));
        HubbleCliCompatibilityTest.awaitPort(relay, dir.resolve("relay.log"), httpPort, Duration.ofSeconds(90));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (relay != null) {
            relay.destroy();
            if (!relay.waitFor(20, TimeUnit.SECONDS)) relay.destroyForcibly().waitFor();
        }
    }

    static List<String> hubbleTls(Path ca, String... more) {
        List<String> a = new ArrayList<>(List.of("--server", relayAddress, "--tls", "--tls-ca-cert-files", ca.toString(),
                "--tls-server-name", "relay.sieve.test"));
        a.addAll(List.of(more));
        return a;
    }

    static List<String> withClientCert(Path from) {
        return List.of("--tls-client-cert-file", from.resolve("client.crt").toString(), "--tls-client-key-file", from.resolve("client.key").toString());
    }

    /** Flows of {@code node} the relay holds, as the stock hubble counts them over mTLS. */
    static int stored(String node) {
        List<String> a = new ArrayList<>(List.of("observe"));
        a.addAll(hubbleTls(certs.resolve("ca.crt")));
        a.addAll(withClientCert(certs));
        a.addAll(List.of("--node-name", node, "--last", "100000", "-o", "json"));
        Result r = run(HUBBLE, a.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return (int) r.out().lines().filter(l -> !l.isBlank()).count();
    }

    static ClientTls nodeTls(Path from, String node) {
        return new ClientTls(List.of(from.resolve("ca.crt")), from.resolve("nodes/" + node + ".crt"), from.resolve("nodes/" + node + ".key"),
                "relay.sieve.test", false);
    }

    static List<Flow> flows(String node, int n) {
        return new TestFlows(7, node, System.currentTimeMillis() * 1_000_000L).next(n);
    }

    @Test
    void aNodeWithItsCertificatePushesAndTheStockHubbleReadsOverMtls() throws Exception {
        try (RelayPusher p = new RelayPusher(relayAddress, "node-a", dir.resolve("spool-a"), 16 << 20, RelayPusher.Settings.DEFAULT,
                nodeTls(certs, "node-a"))) {
            flows("node-a", 700).forEach(p::offer);
            assertThat(p.flush(Duration.ofSeconds(60))).as("all acknowledged").isTrue();
            assertThat(p.lostFlows()).isZero();
        }
        assertThat(stored("node-a")).isEqualTo(700);
    }

    @Test
    void observerClientsWithoutTlsOrWithoutATrustedCertificateAreRefused() {
        List<String> plain = List.of("observe", "--server", relayAddress, "--last", "1");
        assertThat(run(HUBBLE, plain.toArray(String[]::new)).code()).as("plaintext").isNotZero();

        List<String> noCert = new ArrayList<>(List.of("observe"));
        noCert.addAll(hubbleTls(certs.resolve("ca.crt"), "--last", "1"));
        Result r = run(HUBBLE, noCert.toArray(String[]::new));
        assertThat(r.code()).as("TLS without a client certificate").isNotZero();
        assertThat(r.err()).contains("Unauthenticated");

        List<String> untrusted = new ArrayList<>(List.of("observe"));
        untrusted.addAll(hubbleTls(certs.resolve("ca.crt"), "--last", "1"));
        untrusted.addAll(withClientCert(other));
        assertThat(run(HUBBLE, untrusted.toArray(String[]::new)).code()).as("a client certificate of another CA").isNotZero();

        List<String> wrongCa = new ArrayList<>(List.of("observe"));
        wrongCa.addAll(hubbleTls(other.resolve("ca.crt"), "--last", "1"));
        wrongCa.addAll(withClientCert(certs));
        assertThat(run(HUBBLE, wrongCa.toArray(String[]::new)).code()).as("the relay's certificate checked against another CA").isNotZero();

        List<String> good = new ArrayList<>(List.of("status"));
        good.addAll(hubbleTls(certs.resolve("ca.crt")));
        good.addAll(withClientCert(certs));
        Result ok = run(HUBBLE, good.toArray(String[]::new));
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("Healthcheck").contains("Ok");

        List<String> sieve = new ArrayList<>(List.of("status"));
        sieve.addAll(hubbleTls(certs.resolve("ca.crt")));
        sieve.addAll(withClientCert(certs));
        Result s = run(SIEVE, sieve.toArray(String[]::new));
        assertThat(s.code()).as(s.err()).isZero();
        Result sNoCert = run(SIEVE, "status", "--server", relayAddress, "--tls", "--tls-ca-cert-files", certs.resolve("ca.crt").toString(),
                "--tls-server-name", "relay.sieve.test");
        assertThat(sNoCert.code()).isEqualTo(2);
        assertThat(sNoCert.err()).contains("refused by").contains("client certificate");
    }

    @Test
    void aNodePushingAsAnotherNodesNameIsRefusedAndNothingOfItIsStored() throws Exception {
        try (RelayPusher p = new RelayPusher(relayAddress, "node-b", dir.resolve("spool-impostor"), 16 << 20, RelayPusher.Settings.DEFAULT,
                nodeTls(certs, "node-a"));
             RelayPusher untrusted = new RelayPusher(relayAddress, "node-b", dir.resolve("spool-untrusted"), 16 << 20,
                     RelayPusher.Settings.DEFAULT, nodeTls(other, "node-b"))) {
            flows("node-b", 300).forEach(p::offer);
            flows("node-b", 300).forEach(untrusted::offer);
            assertThat(p.flush(Duration.ofSeconds(5))).isFalse();
            assertThat(untrusted.flush(Duration.ofMillis(100))).isFalse();
            assertThat(p.ackedBatches()).isZero();
            assertThat(untrusted.ackedBatches()).isZero();
            assertThat(p.reconnects()).as("the stream is ended, again and again").isPositive();
        }
        assertThat(stored("node-b")).isZero();
        String log = Files.readString(dir.resolve("relay.log"));
        assertThat(log).doesNotContain("Exception in");
    }

    @Test
    void theNodesObserverServesTheStockHubbleOverMtls() throws Exception {
        FlowRing ring = new FlowRing(1024);
        for (Flow f : flows("node-a", 5)) ring.append(f);
        ServerTls tls = new ServerTls(certs.resolve("nodes/node-a.crt"), certs.resolve("nodes/node-a.key"), List.of(certs.resolve("ca.crt")));
        try (ObserverServer node = ObserverServer.start(new InetSocketAddress("127.0.0.1", 0), ring, new AgentEventHub("node-a"), "node-a",
                "test", tls)) {
            String addr = "127.0.0.1:" + node.port();
            Result ok = run(HUBBLE, "observe", "--server", addr, "--tls", "--tls-ca-cert-files", certs.resolve("ca.crt").toString(),
                    "--tls-server-name", "node-a", "--tls-client-cert-file", certs.resolve("client.crt").toString(),
                    "--tls-client-key-file", certs.resolve("client.key").toString(), "--last", "10", "-o", "json");
            assertThat(ok.code()).as(ok.err()).isZero();
            assertThat(ok.out().lines().count()).isEqualTo(5);
            assertThat(run(HUBBLE, "observe", "--server", addr, "--last", "1").code()).as("plaintext").isNotZero();
            assertThat(run(HUBBLE, "observe", "--server", addr, "--tls", "--tls-ca-cert-files", certs.resolve("ca.crt").toString(),
                    "--tls-server-name", "node-a", "--last", "1").code()).as("no client certificate").isNotZero();
            assertThat(run(HUBBLE, "observe", "--server", addr, "--tls", "--tls-ca-cert-files", certs.resolve("ca.crt").toString(),
                    "--tls-server-name", "node-a", "--tls-client-cert-file", other.resolve("client.crt").toString(),
                    "--tls-client-key-file", other.resolve("client.key").toString(), "--last", "1").code())
                    .as("a client certificate of another CA").isNotZero();
        }
    }

    @Test
    void aReplacedCertificateIsServedWithoutARestart() throws Exception {
        Path renewed = dir.resolve("renewed");
        // a certificate of the same CA, another key: issued with the CA's key that certs generate wrote
        var ca = dev.sieve.tls.PemFiles.certificates(certs.resolve("ca.crt")).get(0);
        var caKey = dev.sieve.tls.PemFiles.privateKey(certs.resolve("ca.key"));
        Files.createDirectories(renewed);
        var issued = dev.sieve.tls.CertificateGenerator.withCa(ca, caKey, Duration.ofDays(1))
                .issue("relay.sieve.test", List.of("localhost", "127.0.0.1"), true, true);
        issued.write(renewed.resolve("relay.crt"), renewed.resolve("relay.key"));
        java.math.BigInteger before = servedSerial();
        Files.move(renewed.resolve("relay.key"), dir.resolve("relay.key"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(renewed.resolve("relay.crt"), dir.resolve("relay.crt"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        await(() -> issued.certificate().getSerialNumber().equals(servedSerial()), Duration.ofSeconds(30));
        assertThat(servedSerial()).isNotEqualTo(before);
        List<String> good = new ArrayList<>(List.of("status"));
        good.addAll(hubbleTls(certs.resolve("ca.crt")));
        good.addAll(withClientCert(certs));
        Result ok = run(HUBBLE, good.toArray(String[]::new));
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    /** The serial number of the certificate the relay's gRPC port presents now. */
    static java.math.BigInteger servedSerial() {
        try {
            var ctx = javax.net.ssl.SSLContext.getInstance("TLS");
            var km = new dev.sieve.tls.ReloadingKeyManager(certs.resolve("client.crt"), certs.resolve("client.key"));
            ctx.init(new javax.net.ssl.KeyManager[] {km}, new javax.net.ssl.TrustManager[] {dev.sieve.tls.InsecureTrustManager.INSTANCE}, null);
            int port = Integer.parseInt(relayAddress.substring(relayAddress.lastIndexOf(':') + 1));
            try (var s = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
                var p = s.getSSLParameters();
                p.setApplicationProtocols(new String[] {"h2"});
                s.setSSLParameters(p);
                s.startHandshake();
                return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void await(BooleanSupplier c, Duration max) throws InterruptedException {
        long end = System.nanoTime() + max.toNanos();
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within " + max);
            Thread.sleep(200);
        }
    }

    record Result(int code, String out, String err) {}

    static Result run(Path exe, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(exe.toString());
        cmd.addAll(List.of(args));
        try {
            Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("HOME", dir.toString());
            pb.environment().put("SIEVE_CLI_DAEMON", "0"); // a JVM per command: no CLI daemon outlives the test
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
