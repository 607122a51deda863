package dev.sieve.proxy.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The DNS proxy against a real dnsmasq with real clients ({@code dig}, and hand-made datagrams for bad input), under
 * the seed's {@code 03-allow-s3-egress}: the uploader may resolve {@code *.amazonaws.com} (one label) and
 * {@code api.example.com}.
 */
class DnsProxyTest {

    static Dnsmasq dnsmasq;
    static ConnectionPolicy uploaderToDns;

    record Learned(InetAddress endpoint, List<String> names, List<InetAddress> ips, long ttl, long atNanos) {}

    final ConcurrentLinkedQueue<L7Event> events = new ConcurrentLinkedQueue<>();
    final List<Learned> learned = new CopyOnWriteArrayList<>();
    volatile FqdnLearner learner = (ep, names, ips, ttl) -> {
        learned.add(new Learned(ep, names, ips, ttl, System.nanoTime()));
        return CompletableFuture.completedFuture(null);
    };
    PlainDnsHarness proxy;

    @BeforeAll
    static void startDnsmasq() throws Exception {
        List<String> records = new ArrayList<>(List.of(
                "--host-record=s3.amazonaws.com,10.50.0.1,fd00:50::1",
                "--host-record=bucket.s3.amazonaws.com,10.50.0.2",
                "--host-record=api.example.com,10.50.0.3",
                "--host-record=evil.example.org,10.66.0.1",
                "--host-record=edge.cdn.net,10.50.0.9",
                "--cname=cdn.amazonaws.com,edge.cdn.net",
                "--address=/flood.test/10.60.0.1",
                "--address=/amazonaws.com/10.61.0.1"));
        for (int i = 1; i <= 60; i++) records.add("--host-record=big.amazonaws.com,10.70.0." + i);
        dnsmasq = Dnsmasq.start(records);
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, "node");
        engine.load(ManifestParser.load(List.of(Path.of("../examples/cluster/cluster.yaml"), Path.of("../examples/policies/03-allow-s3-egress.yaml"))));
        Tracer t = new Tracer(engine);
        uploaderToDns = t.connection(t.resolve("data-pipeline/uploader"), t.resolve("kube-system/kube-dns"), 17, 53);
        assertThat(uploaderToDns.redirected()).isTrue();
    }

    @AfterAll
    static void stopDnsmasq() throws Exception {
        if (dnsmasq != null) dnsmasq.close();
    }

    @BeforeEach
    void start() throws Exception {
        startProxy(DnsProxyConfig.DEFAULT);
    }

    void startProxy(DnsProxyConfig config) throws Exception {
        if (proxy != null) proxy.close();
        proxy = new PlainDnsHarness(dnsmasq.address(), (c, s, proto, port) -> uploaderToDns, (ep, n, ips, ttl) -> learner.learn(ep, n, ips, ttl),
                events::add, config);
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
    }

    // ---- real clients ---------------------------------------------------------------------------------------

    record Dig(String status, String flags, List<String> answers, String raw) {}

    Dig dig(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("dig", "@127.0.0.1", "-p", Integer.toString(proxy.port), "+tries=1", "+time=3"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        String status = null, flags = null;
        List<String> answers = new ArrayList<>();
        boolean inAnswer = false;
        for (String line : out.split("\n")) {
            if (line.contains("status: ")) status = line.replaceAll(".*status: ([A-Z]+).*", "$1");
            if (line.startsWith(";; flags:")) flags = line.replaceAll(";; flags: ([a-z ]*);.*", "$1");
            if (line.startsWith(";; ANSWER SECTION")) inAnswer = true;
            else if (line.isBlank()) inAnswer = false;
            else if (inAnswer) {
                String[] f = line.split("\\s+");
                answers.add(f[3] + " " + f[4]);
            }
        }
        return new Dig(status, flags, answers, out);
    }

    @Test
    void allowedNameIsAnsweredAndLearnedWithHubbleFlows() throws Exception {
        Dig d = dig("s3.amazonaws.com", "A");
        assertThat(d.status).as(d.raw).isEqualTo("NOERROR");
        assertThat(d.answers).containsExactly("A 10.50.0.1");
        assertThat(learned).hasSize(1);
        assertThat(learned.getFirst().names()).containsExactly("s3.amazonaws.com");
        assertThat(learned.getFirst().ips()).containsExactly(InetAddress.getByName("10.50.0.1"));
        assertThat(learned.getFirst().ttl()).isEqualTo(30);
        List<L7Event> ev = awaitEvents(2);
        L7Event req = ev.get(0), resp = ev.get(1);
        assertThat(req.layer7().getType()).isEqualTo(L7FlowType.REQUEST);
        assertThat(req.verdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(req.layer7().getDns().getQuery()).isEqualTo("s3.amazonaws.com.");
        assertThat(req.layer7().getDns().getQtypesList()).containsExactly("A");
        assertThat(req.summary()).isEqualTo("DNS Query s3.amazonaws.com. A");
        assertThat(req.egressRules()).extracting(r -> r.policy().name()).containsExactly("allow-s3-egress");
        assertThat(resp.layer7().getType()).isEqualTo(L7FlowType.RESPONSE);
        assertThat(resp.layer7().getDns().getIpsList()).containsExactly("10.50.0.1");
        assertThat(resp.layer7().getDns().getRrtypesList()).containsExactly("A");
        assertThat(resp.layer7().getDns().getTtl()).isEqualTo(30);
        assertThat(resp.layer7().getDns().getObservationSource()).isEqualTo("proxy");
        assertThat(resp.layer7().getLatencyNs()).isPositive();
        assertThat(resp.summary()).isEqualTo("DNS Answer \"10.50.0.1\" TTL: 30 (Proxy s3.amazonaws.com. A)");
        assertThat(resp.source().getPort()).isEqualTo(dnsmasq.port);
    }

    @Test
    void namesThePolicyDoesNotAllowAreRefused() throws Exception {
        for (String name : List.of("evil.example.org", "bucket.s3.amazonaws.com")) { // *.amazonaws.com is one label deep
            Dig d = dig(name, "A");
            assertThat(d.status).as(d.raw).isEqualTo("REFUSED");
            assertThat(d.answers).isEmpty();
        }
        assertThat(learned).isEmpty();
        List<L7Event> ev = awaitEvents(2);
        assertThat(ev).allSatisfy(e -> {
            assertThat(e.verdict()).isEqualTo(Verdict.DROPPED);
            assertThat(e.egressRules()).extracting(r -> r.policy().name()).containsExactly("allow-s3-egress");
        });
        assertThat(dig("api.example.com", "A").answers).containsExactly("A 10.50.0.3");
    }

    @Test
    void rejectCodeCanBeNxdomain() throws Exception {
        startProxy(new DnsProxyConfig(DnsMessage.RCODE_NXDOMAIN, Duration.ofSeconds(5)));
        assertThat(dig("evil.example.org", "A").status).isEqualTo("NXDOMAIN");
    }

    @Test
    void dnsOverTcp() throws Exception {
        Dig ok = dig("+tcp", "s3.amazonaws.com", "A");
        assertThat(ok.answers).as(ok.raw).containsExactly("A 10.50.0.1");
        assertThat(dig("+tcp", "evil.example.org", "A").status).isEqualTo("REFUSED");
        assertThat(learned).hasSize(1);
        assertThat(awaitEvents(3)).extracting(e -> e.l4Protocol()).containsOnly(6);
    }

    @Test
    void aaaaIsAnsweredAndLearned() throws Exception {
        Dig d = dig("s3.amazonaws.com", "AAAA");
        assertThat(d.answers).as(d.raw).containsExactly("AAAA fd00:50::1");
        assertThat(learned.getFirst().ips()).containsExactly(InetAddress.getByName("fd00:50::1"));
    }

    @Test
    void cnameChainIsFollowed() throws Exception {
        Dig d = dig("cdn.amazonaws.com", "A");
        assertThat(d.answers).as(d.raw).containsExactly("CNAME edge.cdn.net.", "A 10.50.0.9");
        assertThat(learned.getFirst().names()).containsExactly("cdn.amazonaws.com", "edge.cdn.net");
        assertThat(learned.getFirst().ips()).containsExactly(InetAddress.getByName("10.50.0.9"));
        L7Event resp = awaitEvents(2).get(1);
        assertThat(resp.layer7().getDns().getCnamesList()).containsExactly("edge.cdn.net.");
        assertThat(resp.summary()).isEqualTo("DNS Answer \"10.50.0.9\" CNAMEs: \"edge.cdn.net.\" TTL: 30 (Proxy cdn.amazonaws.com. A)");
    }

    @Test
    void truncatedAnswerOverUdpThenTheClientRetriesOverTcp() throws Exception {
        Dig udpOnly = dig("+noedns", "+ignore", "big.amazonaws.com", "A");
        assertThat(udpOnly.flags).as(udpOnly.raw).contains("tc");
        Dig retried = dig("+noedns", "big.amazonaws.com", "A"); // dig retries over TCP on TC
        assertThat(retried.raw).contains("Truncated, retrying in TCP mode");
        assertThat(retried.answers).hasSize(60);
        assertThat(learned.getLast().ips()).hasSize(60);
    }

    @Test
    void edns0PassesThrough() throws Exception {
        Dig d = dig("+bufsize=1232", "s3.amazonaws.com", "A");
        assertThat(d.raw).contains("; EDNS: version: 0").contains("udp: ");
        byte[] q = query(0x4242, List.of("s3.amazonaws.com"), 1, 0x0100, true);
        byte[] a = exchangeUdp(q);
        assertThat(a).isNotNull();
        assertThat(u16(a, 10)).as("ARCOUNT: the OPT record came back").isEqualTo(1);
    }

    @Test
    void answerIsReleasedOnlyAfterTheMapsAreWritten() throws Exception {
        long[] learnedAt = new long[1];
        learner = (ep, names, ips, ttl) -> CompletableFuture.supplyAsync(() -> {
            sleep(300);
            learnedAt[0] = System.nanoTime();
            return null;
        });
        long t0 = System.nanoTime();
        byte[] a = exchangeUdp(query(7, List.of("s3.amazonaws.com"), 1, 0x0100, false));
        long answeredAt = System.nanoTime();
        assertThat(a).isNotNull();
        assertThat(learnedAt[0]).isPositive().isLessThan(answeredAt);
        assertThat(answeredAt - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
    }

    @Test
    void failedLearningAnswersServfail() throws Exception {
        learner = (ep, names, ips, ttl) -> CompletableFuture.failedFuture(new IllegalStateException("map full"));
        assertThat(dig("s3.amazonaws.com", "A").status).isEqualTo("SERVFAIL");
    }

    // ---- bad input --------------------------------------------------------------------------------------------

    @Test
    void datagramShorterThanAHeaderIsDropped() throws Exception {
        assertThat(exchangeUdp(new byte[] {1, 2, 3, 4, 5})).isNull();
        assertStillServes();
    }

    @Test
    void queryWithoutQuestionsGetsFormerr() throws Exception {
        byte[] q = new byte[12];
        q[0] = 9;
        q[2] = 1;
        assertThat(rcode(exchangeUdp(q))).isEqualTo(DnsMessage.RCODE_FORMERR);
        assertStillServes();
    }

    @Test
    void compressionLoopGetsFormerr() throws Exception {
        byte[] q = {0, 10, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xC0, 12, 0, 1, 0, 1}; // the name points at itself
        assertThat(rcode(exchangeUdp(q))).isEqualTo(DnsMessage.RCODE_FORMERR);
        byte[] fwd = {0, 11, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0xC0, 18, 0, 1, 0, 1, 1, 'a', 0}; // points forwards
        assertThat(rcode(exchangeUdp(fwd))).isEqualTo(DnsMessage.RCODE_FORMERR);
        assertStillServes();
    }

    @Test
    void nameOf256OctetsGetsFormerr() throws Exception {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 4; i++) labels.add("a".repeat(63));
        String name = String.join(".", labels); // 4 * 64 + 1 = 257 octets on the wire
        assertThat(rcode(exchangeUdp(query(12, List.of(name), 1, 0x0100, false)))).isEqualTo(DnsMessage.RCODE_FORMERR);
        assertStillServes();
    }

    @Test
    void truncatedQuestionAndBadLabelTypeGetFormerr() throws Exception {
        byte[] full = query(13, List.of("s3.amazonaws.com"), 1, 0x0100, false);
        assertThat(rcode(exchangeUdp(java.util.Arrays.copyOf(full, full.length - 3)))).isEqualTo(DnsMessage.RCODE_FORMERR);
        byte[] badLabel = {0, 14, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, (byte) 0x41, 'a', 0, 0, 1, 0, 1};
        assertThat(rcode(exchangeUdp(badLabel))).isEqualTo(DnsMessage.RCODE_FORMERR);
        byte[] hugeCount = {0, 15, 1, 0, (byte) 0xFF, (byte) 0xFF, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1};
        assertThat(rcode(exchangeUdp(hugeCount))).isEqualTo(DnsMessage.RCODE_FORMERR);
        assertStillServes();
    }

    @Test
    void oversizedGarbageGetsFormerrAndAResponseIsIgnored() throws Exception {
        byte[] garbage = new byte[4000];
        new java.util.Random(1).nextBytes(garbage);
        garbage[2] = 1; // a query
        assertThat(rcode(exchangeUdp(garbage))).isEqualTo(DnsMessage.RCODE_FORMERR);
        byte[] response = query(16, List.of("s3.amazonaws.com"), 1, 0x8100, false);
        assertThat(exchangeUdp(response)).isNull();
        assertStillServes();
    }

    @Test
    void multipleQuestionsAreRefusedUnlessAllAreAllowed() throws Exception {
        byte[] mixed = query(17, List.of("s3.amazonaws.com", "evil.example.org"), 1, 0x0100, false);
        assertThat(rcode(exchangeUdp(mixed))).isEqualTo(DnsMessage.RCODE_REFUSED);
        byte[] both = query(18, List.of("s3.amazonaws.com", "api.example.com"), 1, 0x0100, false);
        byte[] a = exchangeUdp(both);
        assertThat(a).isNotNull(); // forwarded: whatever dnsmasq makes of two questions, it is not the proxy's refusal
        assertThat(events).filteredOn(e -> e.layer7().getType() == L7FlowType.REQUEST && e.verdict() == Verdict.FORWARDED).isNotEmpty();
    }

    @Test
    void tcpMessageCutShortAndGarbageDoNotHurt() throws Exception {
        try (Socket s = new Socket("127.0.0.1", proxy.port)) {
            s.getOutputStream().write(new byte[] {(byte) 0xFF, (byte) 0xFF, 1, 2, 3}); // announces 65535 octets, sends 3
        }
        try (Socket s = new Socket("127.0.0.1", proxy.port)) {
            byte[] garbage = {0, 13, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5}; // a question cut short
            s.getOutputStream().write(garbage);
            s.setSoTimeout(3000);
            byte[] len = s.getInputStream().readNBytes(2);
            assertThat(len).hasSize(2);
            byte[] body = s.getInputStream().readNBytes(u16(len, 0));
            assertThat(rcode(body)).isEqualTo(DnsMessage.RCODE_FORMERR);
        }
        assertThat(dig("+tcp", "s3.amazonaws.com", "A").answers).containsExactly("A 10.50.0.1");
    }

    @Test
    void floodOfDistinctNamesIsAnsweredAndLearned() throws Exception {
        int n = 2000;
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<Integer>> rcodes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = (i % 2 == 0 ? "f" + i + ".amazonaws.com" : "f" + i + ".flood.test");
                int id = i;
                rcodes.add(pool.submit(() -> {
                    for (int attempt = 0; attempt < 3; attempt++) {
                        byte[] a = exchangeUdp(query(id & 0xFFFF, List.of(name), 1, 0x0100, false));
                        if (a != null) return rcode(a);
                    }
                    return -1;
                }));
            }
            int ok = 0, refused = 0;
            for (Future<Integer> f : rcodes) {
                int r = f.get(60, TimeUnit.SECONDS);
                if (r == 0) ok++;
                if (r == DnsMessage.RCODE_REFUSED) refused++;
            }
            assertThat(ok).isEqualTo(n / 2);
            assertThat(refused).isEqualTo(n / 2);
            assertThat(learned).hasSize(n / 2);
        } finally {
            pool.shutdownNow();
        }
        assertStillServes();
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    void assertStillServes() throws Exception {
        assertThat(dig("s3.amazonaws.com", "A").answers).containsExactly("A 10.50.0.1");
    }

    List<L7Event> awaitEvents(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (events.size() < n && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(events).hasSizeGreaterThanOrEqualTo(n);
        return new ArrayList<>(events);
    }

    byte[] exchangeUdp(byte[] q) throws Exception {
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(2000);
            s.send(new DatagramPacket(q, q.length, InetAddress.getLoopbackAddress(), proxy.port));
            byte[] buf = new byte[65535];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (SocketTimeoutException e) {
                return null;
            }
            return java.util.Arrays.copyOf(buf, p.getLength());
        }
    }

    static byte[] query(int id, List<String> names, int type, int flags, boolean edns) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] header = {id, flags, names.size(), 0, 0, edns ? 1 : 0};
        for (int h : header) {
            out.write(h >> 8);
            out.write(h);
        }
        for (String n : names) {
            for (String l : n.split("\\.")) {
                out.write(l.length());
                out.writeBytes(l.getBytes(StandardCharsets.US_ASCII));
            }
            out.write(0);
            out.write(0);
            out.write(type);
            out.write(0);
            out.write(1);
        }
        if (edns) out.writeBytes(new byte[] {0, 0, 41, 4, (byte) 0xD0, 0, 0, 0, 0, 0, 0});
        return out.toByteArray();
    }

    static int rcode(byte[] a) {
        assertThat(a).as("an answer").isNotNull();
        return a[3] & 0xF;
    }

    static int u16(byte[] a, int off) {
        return ((a[off] & 0xFF) << 8) | (a[off + 1] & 0xFF);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
