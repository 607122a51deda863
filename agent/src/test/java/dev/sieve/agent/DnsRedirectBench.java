package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DNS proxy's cost on the path a pod's queries really take (scripts/bench-dns.sh runs it; not part of
 * {@code make test}): the real agent and datapath in network namespaces, dnsmasq in a kube-dns pod, and UDP clients
 * in two pods. One pod's egress policy has an L7 {@code dns} rule, so the datapath redirects its queries to the
 * node proxy's transparent socket, the proxy judges them, asks dnsmasq from the pod's address and answers from
 * dnsmasq's address; the other pod's policy allows port 53 without L7 rules, so its queries go straight through the
 * datapath (the baseline). Queries/s and p50/p99 for 1 and 32 clients each (blocking clients, one query in flight),
 * then fresh names: the answer-to-map time (from the proxy's learn call, right after the answer is read, until the
 * ipcache and policy keys are written; the kernel map is checked for every address afterwards).
 *
 * <p>{@code -Dsieve.bench.dns.out=FILE.json} enables it; {@code -Dsieve.bench.dns.seconds} (default 5) per run,
 * {@code -Dsieve.bench.dns.names} (default 500) fresh names.
 */
@EnabledIfSystemProperty(named = "sieve.bench.dns.out", matches = ".+")
class DnsRedirectBench {

    static final String DNS = "10.78.4.10", VIA_PROXY = "10.78.3.10", DIRECT = "10.78.3.20";

    @TempDir
    Path dir;

    record Result(String target, int clients, double qps, double p50Ms, double p99Ms, long queries, long timeouts,
                  Map<String, Double> cpuMicrosPerQuery) {}

    /**
     * CPU time of this JVM's threads so far in nanoseconds (from /proc: user and system apart), by group: the proxy's
     * event loops, the L7 flow publisher, the FQDN learner, the rest of the agent, the clients, the JVM's own (GC, JIT).
     */
    static Map<String, Long> threadCpu() {
        Map<String, Long> out = new java.util.TreeMap<>();
        long tick = 10_000_000L; // USER_HZ 100
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(t.resolve("stat"));
                } catch (java.io.IOException e) {
                    continue; // ended meanwhile
                }
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                String n = stat.substring(open + 1, close);
                String[] f = stat.substring(close + 2).split(" ");
                long user = Long.parseLong(f[11]) * tick, sys = Long.parseLong(f[12]) * tick;
                String group = n.startsWith("sieve-proxy") ? "proxy_loops" : n.startsWith("sieve-l7-flows") ? "l7_flow_publisher"
                        : n.startsWith("sieve-fqdn") ? "fqdn_learner" : n.startsWith("bench-") ? "clients" : n.startsWith("sieve-") ? "agent_other" : "jvm_other";
                if (group.equals("jvm_other")) out.merge("thread:" + n.replaceAll("[0-9]+", "N"), user + sys, Long::sum);
                out.merge(group + "_user", user, Long::sum);
                out.merge(group + "_sys", sys, Long::sum);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    @Test
    void directVersusThroughTheProxy() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        int seconds = Integer.getInteger("sieve.bench.dns.seconds", 5);
        int names = Integer.getInteger("sieve.bench.dns.names", 500);
        Path out = Path.of(System.getProperty("sieve.bench.dns.out"));
        Lab lab = Lab.create(Lab.claimRandomPrefix());
        Agent agent = null;
        try {
            Pod viaProxy = lab.addPod("viaproxy", VIA_PROXY, null);
            Pod direct = lab.addPod("direct", DIRECT, null);
            Pod kubeDns = lab.addPod("kubedns", DNS, null);
            StringBuilder hosts = new StringBuilder();
            for (int i = 0; i < names; i++) hosts.append(freshAddress(i)).append(" n").append(i).append(".amazonaws.com\n");
            Path hostsFile = Files.writeString(dir.resolve("fresh-hosts"), hosts);
            kubeDns.start("dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                    "--listen-address=" + DNS, "--port=53", "--pid-file=", "--user=root", "--local-ttl=300", "--dns-forward-max=1000",
                    "--host-record=s3.amazonaws.com,198.51.100.1", "--addn-hosts=" + hostsFile);
            Path manifests = Files.createDirectories(dir.resolve("manifests"));
            Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
            Files.writeString(manifests.resolve("policies.yaml"), POLICIES);
            agent = new Agent(AgentOptions.parse(new String[] {
                    "--node-name", "node-1", "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                    "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                    "--fqdn-state-file", dir.resolve("fqdn-cache.tsv").toString()}, Map.of()));
            ThreadFactory proxied = NetNs.named(viaProxy.namespace()).threadFactory("bench-proxied");
            ThreadFactory straight = NetNs.named(direct.namespace()).threadFactory("bench-direct");
            awaitAnswer(proxied);
            awaitAnswer(straight);

            List<Result> results = new ArrayList<>();
            load("direct", straight, 32, 2, "s3.amazonaws.com"); // warm-up (JIT, caches), both paths, both loads
            load("proxy", proxied, 1, 2, "s3.amazonaws.com");
            load("proxy", proxied, 32, 4, "s3.amazonaws.com");
            for (int clients : new int[] {1, 32}) {
                results.add(load("direct", straight, clients, seconds, "s3.amazonaws.com"));
                results.add(load("proxy", proxied, clients, seconds, "s3.amazonaws.com"));
            }

            // fresh names, one at a time: every answer teaches the datapath a new address
            var learner = agent.fqdnLearner();
            long updatesBefore = learner.updates();
            double u0 = learner.updateSecondsTotal(), q0 = learner.queueSecondsTotal(), l0 = learner.lockWaitSecondsTotal(), s0 = learner.syncSecondsTotal();
            long[] client = new long[names];
            for (int i = 0; i < names; i++) {
                String name = "n" + i + ".amazonaws.com";
                client[i] = CompletableFuture.supplyAsync(() -> ask(name), r -> proxied.newThread(r).start()).get(10, TimeUnit.SECONDS);
            }
            long learned = learner.updates() - updatesBefore;
            double upd = learner.updateSecondsTotal() - u0;
            String phases = String.format(Locale.ROOT, "\"learner_queue_share\": %.3f, \"lock_wait_share\": %.3f, \"datapath_sync_share\": %.3f",
                    upd == 0 ? 0 : (learner.queueSecondsTotal() - q0) / upd, upd == 0 ? 0 : (learner.lockWaitSecondsTotal() - l0) / upd,
                    upd == 0 ? 0 : (learner.syncSecondsTotal() - s0) / upd);
            System.out.println("answer to map phases: " + phases);
            long[] toMap = learner.recentUpdateNanos((int) Math.min(learned, names));
            Map<String, Integer> ipcache = new java.util.HashMap<>();
            agent.datapathIpcache().forEach((k, v) -> ipcache.put(k, v));
            int missing = 0;
            for (int i = 0; i < names; i++) {
                if (!ipcache.containsKey(freshAddress(i) + "/32")) missing++;
            }
            Arrays.sort(toMap);
            Arrays.sort(client);

            StringBuilder json = new StringBuilder("{\n  \"note\": \"one run on a shared, busy 2-core machine. Real redirect path: the real agent and "
                    + "datapath in network namespaces, dnsmasq in a kube-dns pod; 'proxy' clients run in a pod whose egress policy has an L7 dns rule "
                    + "(the datapath hands each query to the node proxy's transparent socket; the proxy asks dnsmasq from the pod's address and "
                    + "answers from dnsmasq's), 'direct' clients in a pod allowed port 53 at L4 (straight through the datapath). Blocking UDP "
                    + "clients, one query in flight each, A s3.amazonaws.com. answer_to_map: from the proxy's learn call (right after it read the "
                    + "answer) until the ipcache entry and the policy keys are written, over fresh names, each a new address; every address "
                    + "was then looked up in the kernel's ipcache (missing_in_kernel_ipcache); learner_queue_share, lock_wait_share, "
                    + "datapath_sync_share: the parts of that time spent waiting for the learner's thread, for the agent's lock, and writing "
                    + "the maps. jvm_cpu_us_per_query: CPU time of this JVM's threads per query during the run (from /proc, user and sys "
                    + "apart): the proxy's event loops, the L7 flow publisher, the FQDN learner, the agent's other threads, and the JVM's "
                    + "own (GC, JIT; the clients run in this JVM, their threads are left out).\",\n");
            json.append("  \"seconds_per_run\": ").append(seconds).append(",\n  \"runs\": [\n");
            for (int i = 0; i < results.size(); i++) {
                Result r = results.get(i);
                StringBuilder cpu = new StringBuilder();
                r.cpuMicrosPerQuery.forEach((k, v) -> cpu.append(cpu.isEmpty() ? "" : ", ").append('"').append(k).append("\": ").append(v));
                json.append(String.format(Locale.ROOT, "    {\"target\": \"%s\", \"clients\": %d, \"qps\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"queries\": %d, \"timeouts\": %d, \"jvm_cpu_us_per_query\": {%s}}%s%n",
                        r.target, r.clients, r.qps, r.p50Ms, r.p99Ms, r.queries, r.timeouts, cpu, i < results.size() - 1 ? "," : ""));
                System.out.printf(Locale.ROOT, "%-6s %2d clients: %8.0f queries/s  p50 %.3f ms  p99 %.3f ms  (%d queries, %d timeouts)  cpu us/query %s%n",
                        r.target, r.clients, r.qps, r.p50Ms, r.p99Ms, r.queries, r.timeouts, r.cpuMicrosPerQuery);
            }
            json.append("  ],\n  \"summary\": [\n");
            List<String> sums = new ArrayList<>();
            for (int i = 0; i + 1 < results.size(); i += 2) {
                Result d = results.get(i), p = results.get(i + 1);
                sums.add(String.format(Locale.ROOT, "    {\"clients\": %d, \"proxy_qps_of_direct\": %.3f, \"p99_added_ms\": %.3f}",
                        d.clients, p.qps / d.qps, p.p99Ms - d.p99Ms));
                System.out.printf(Locale.ROOT, "%2d clients: proxy at %.0f%% of direct queries/s, p99 +%.3f ms%n", d.clients, 100 * p.qps / d.qps, p.p99Ms - d.p99Ms);
            }
            json.append(String.join(",\n", sums)).append("\n  ],\n");
            json.append(String.format(Locale.ROOT, "  \"answer_to_map\": {\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"names\": %d, "
                            + "\"missing_in_kernel_ipcache\": %d, \"fresh_name_query_p50_ms\": %.3f, \"fresh_name_query_p99_ms\": %.3f, "
                            + "\"incremental_syncs\": %d, \"full_syncs\": %d, %s, \"known_answers_released_at_once\": %d}\n}\n",
                    quantile(toMap, 0.5), quantile(toMap, 0.99), toMap.length == 0 ? 0 : toMap[toMap.length - 1] / 1e6, toMap.length, missing,
                    quantile(client, 0.5), quantile(client, 0.99), agent.endpointManager().incrementalSyncs(), agent.endpointManager().fullSyncs(),
                    phases, learner.knownAnswers()));
            System.out.printf(Locale.ROOT, "answer to map: p50 %.3f ms, p99 %.3f ms over %d fresh names (%d missing in the kernel ipcache)%n",
                    quantile(toMap, 0.5), quantile(toMap, 0.99), toMap.length, missing);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, json);
            assertThat(missing).as("learned addresses missing in the kernel's ipcache").isZero();
        } finally {
            try {
                if (agent != null) agent.close();
            } finally {
                lab.close();
                Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
            }
        }
    }

    static String freshAddress(int i) {
        return "100.64." + (1 + i / 250) + "." + (1 + i % 250);
    }

    static double quantile(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }

    /** Until the first answer (the agent attaches and opens its listeners meanwhile). */
    static void awaitAnswer(ThreadFactory in) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                CompletableFuture.supplyAsync(() -> ask("s3.amazonaws.com"), r -> in.newThread(r).start()).get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) throw new AssertionError("no DNS answer through " + in, e);
            }
        }
    }

    /** One A query from this thread's namespace; the nanoseconds to a NOERROR answer with one address. */
    static long ask(String name) {
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(1000);
            s.connect(new InetSocketAddress(DNS, 53));
            byte[] q = query(4242, name);
            byte[] buf = new byte[4096];
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            long t0 = System.nanoTime();
            s.send(new DatagramPacket(q, q.length));
            s.receive(in);
            long took = System.nanoTime() - t0;
            if ((buf[3] & 0xF) != 0 || buf[7] != 1) throw new IllegalStateException(name + ": not a NOERROR answer with one record");
            return took;
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static Result load(String target, ThreadFactory in, int clients, int seconds, String name) throws Exception {
        Map<String, Long> cpuBefore = threadCpu();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong timeouts = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        List<long[]> lat = new ArrayList<>();
        int[] counts = new int[clients];
        Thread[] threads = new Thread[clients];
        for (int c = 0; c < clients; c++) {
            long[] mine = new long[400_000];
            lat.add(mine);
            int idx = c;
            threads[c] = in.newThread(() -> {
                try (DatagramSocket s = new DatagramSocket()) {
                    s.setSoTimeout(1000);
                    s.connect(new InetSocketAddress(DNS, 53));
                    byte[] buf = new byte[4096];
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    int id = idx * 1000;
                    while (System.nanoTime() < end && counts[idx] < mine.length) {
                        byte[] q = query(++id & 0xFFFF, name);
                        long t0 = System.nanoTime();
                        s.send(new DatagramPacket(q, q.length));
                        try {
                            do {
                                s.receive(p);
                            } while (((buf[0] & 0xFF) << 8 | (buf[1] & 0xFF)) != (id & 0xFFFF));
                        } catch (SocketTimeoutException e) {
                            timeouts.incrementAndGet();
                            continue;
                        }
                        long took = System.nanoTime() - t0;
                        if ((buf[2] & 0x80) == 0 || (buf[3] & 0xF) != 0 || buf[7] != 1) {
                            bad.incrementAndGet();
                            continue;
                        }
                        mine[counts[idx]++] = took;
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            threads[c].start();
        }
        for (Thread t : threads) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        int total = 0;
        for (int n : counts) total += n;
        Map<String, Long> cpuAfter = threadCpu(); // threads that ended meanwhile (the clients) are not counted
        Map<String, Double> cpu = new java.util.TreeMap<>();
        for (var e : cpuAfter.entrySet()) {
            if (e.getKey().startsWith("clients")) continue; // ended before this reading
            if (e.getKey().startsWith("thread:")) {
                long used = e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
                if (used > 50_000_000L) System.out.printf(Locale.ROOT, "  %s %s: %.0f ms%n", target, e.getKey(), used / 1e6);
                continue;
            }
            long used = e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L);
            cpu.put(e.getKey(), total == 0 ? 0 : Math.round(used / 1e3 / total * 100) / 100.0);
        }
        long[] all = new long[total];
        int k = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(lat.get(c), 0, all, k, counts[c]);
            k += counts[c];
        }
        Arrays.sort(all);
        if (bad.get() > 0) throw new IllegalStateException(target + ": " + bad.get() + " answers were not NOERROR with one A record");
        return new Result(target, clients, total / elapsed, quantile(all, 0.5), quantile(all, 0.99), total, timeouts.get(), cpu);
    }

    static byte[] query(int id, String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int[] h = {id, 0x0100, 1, 0, 0, 0};
        for (int v : h) {
            out.write(v >> 8);
            out.write(v);
        }
        for (String l : name.split("\\.")) {
            out.write(l.length());
            out.writeBytes(l.getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes(new byte[] {0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: bench}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: kube-system}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: viaproxy, namespace: bench, labels: {app: viaproxy}}
            spec: {nodeName: node-1}
            status: {podIPs: [{ip: 10.78.3.10}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: direct, namespace: bench, labels: {app: direct}}
            spec: {nodeName: node-1}
            status: {podIPs: [{ip: 10.78.3.20}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
            spec: {nodeName: node-1}
            status: {podIPs: [{ip: 10.78.4.10}]}
            """;

    static final String POLICIES = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: dns-through-the-proxy, namespace: bench}
            spec:
              endpointSelector: {matchLabels: {app: viaproxy}}
              egress:
                - toEndpoints:
                    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}
                  toPorts:
                    - ports: [{port: "53", protocol: ANY}]
                      rules:
                        dns:
                          - matchPattern: "*.amazonaws.com"
                - toFQDNs:
                    - matchPattern: "*.amazonaws.com"
                  toPorts:
                    - ports: [{port: "443", protocol: TCP}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: dns-direct, namespace: bench}
            spec:
              endpointSelector: {matchLabels: {app: direct}}
              egress:
                - toEndpoints:
                    - matchLabels: {"k8s:io.kubernetes.pod.namespace": kube-system, k8s-app: kube-dns}
                  toPorts:
                    - ports: [{port: "53", protocol: ANY}]
            """;
}
