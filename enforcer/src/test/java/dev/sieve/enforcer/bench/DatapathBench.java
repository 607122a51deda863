package dev.sieve.enforcer.bench;

import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.EndpointConfig;
import dev.sieve.enforcer.datapath.LocalDelivery;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whole-process datapath benchmark: two lab pods, the same run and the same pods for every
 * configuration — no program; Sieve's programs with 10 / 1,000 / 10,000 policy entries per
 * endpoint and direction; iptables in the node namespace's FORWARD chain with as many rules — and
 * per configuration TCP throughput (iperf3), request/response rate on one connection (TCP_RR, 1
 * byte each way) and connect/request/close rate (TCP_CRR, each a new connection through the
 * policy). Configurations are interleaved per repetition, in an order rotated each repetition; the
 * median is reported. Per Sieve configuration, the programs' own cost per packet comes from the
 * kernel's BPF run-time statistics. Then, per size, the paired A/B of {@link #pairedAb} for TCP_RR
 * and for throughput (the figures the 5% goal is judged by), the ring buffer -> decoded event
 * figures and the programs' cost per path by BPF_PROG_TEST_RUN ({@link ProgramCost}). Writes JSON to args[0].
 *
 * <p>Run as root: {@code java ... dev.sieve.enforcer.bench.DatapathBench OUT.json [reps] [seconds] [config,...]}.
 */
public final class DatapathBench {
    static final int IPERF_PORT = 5201;
    static final int RR_PORT = 7001;
    static final int SOCKPERF_PORT = 7002;
    /** sockperf (C, pinned to one core per side) measures TCP_RR when installed; the Java loop otherwise. */
    static final boolean SOCKPERF = onPath("sockperf");
    static final int ID_CLIENT = 1001, ID_SERVER = 1002;
    static final int[] SIZES = {10, 1_000, 10_000};
    /** Configurations named sieve-stack-N deliver pod to pod through the host's stack ({@link LocalDelivery#STACK}); sieve-N with bpf_redirect_peer, the default. */
    static final String STACK_DELIVERY = "sieve-stack-";
    /** Pairs of 1 s TCP_RR runs (and half as many of 2 s throughput runs), detached and attached, per size. */
    static final int PAIRS = Integer.getInteger("bench.pairs", 30);
    /** Pairs of 0.5 s segments of one iperf3 stream, detached and attached, per size ({@link #inStreamAb}). */
    static final int STREAM_PAIRS = Integer.getInteger("bench.stream.pairs", 2 * PAIRS);
    static final double STREAM_SEGMENT_SECS = 0.5;
    /** Pairs of 2 s throughput runs per size (0: left out; the in-stream A/B is the throughput figure). */
    static final int PAIRS_2S = Integer.getInteger("bench.pairs.2s", 0);
    /** Pairs of 1 s TCP_RR windows alternating the previous version's programs and this one's, per size ({@link #costAb}). */
    static final int COST_PAIRS = Integer.getInteger("bench.cost.pairs", 20);
    /** The sizes the cost A/B runs at (bench.cost.sizes, comma-separated; the figure is at 10,000 entries). */
    static final List<String> COST_SIZES = List.of(System.getProperty("bench.cost.sizes", "10000").split(","));
    /**
     * An earlier build of bpf/sieve.bpf.o (bench.previous.object): its programs run as the previous-N configurations on
     * the same pinned maps, so no program, this version and the previous one are measured in one run of one lab.
     */
    static final String PREVIOUS_OBJECT = System.getProperty("bench.previous.object", "");
    static final String PREVIOUS = "previous-";
    /** The previous version's datapath (its programs; the maps are this version's pins), or null. */
    static Datapath previous;
    /** Prints every pair of the A/Bs. */
    static final boolean VERBOSE = Boolean.getBoolean("bench.verbose");

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "bench/results/datapath.json");
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        double secs = args.length > 2 ? Double.parseDouble(args[2]) : 2;
        Map<String, List<double[]>> samples = new LinkedHashMap<>(); // config -> [gbps, rr/s, rr/s at the median round trip, crr/s]
        Map<String, List<double[]>> costs = new LinkedHashMap<>(); // config -> [ns per run from pod, to pod]
        Map<String, double[]> paired = new LinkedHashMap<>(); // config -> [median rr/s none, sieve, median pair difference %, CI low, CI high]
        Map<String, double[]> pairedGbps = new LinkedHashMap<>(); // the same for throughput
        Map<String, double[]> inStream = new LinkedHashMap<>(); // the same, segments of one stream
        Map<String, double[]> costAb = new LinkedHashMap<>(); // config -> [median ns previous, this, median pair difference %, CI]
        List<String> configs = new ArrayList<>(List.of("none"));
        for (int n : SIZES) configs.add("sieve-" + n);
        if (!PREVIOUS_OBJECT.isEmpty()) for (int n : SIZES) configs.add(PREVIOUS + n);
        configs.add(STACK_DELIVERY + SIZES[0]); // through the host's forwarding, each side judged by its own program
        for (int n : SIZES) configs.add("iptables-" + n);
        if (args.length > 3) configs.retainAll(List.of(args[3].split(","))); // a subset, for quick comparisons

        try (Lab lab = Lab.create()) {
            Pod client = lab.addPod("client");
            Pod server = lab.addPod("server");
            DatapathConfig config = DatapathConfig.of("bench-" + lab.prefix()).withNetns(NetNs.named(lab.nodeNamespace()));
            BackgroundProcess iperf = server.start("taskset", "-c", "1", "iperf3", "-s", "-p", Integer.toString(IPERF_PORT));
            BackgroundProcess sockperf = SOCKPERF
                    ? server.start("taskset", "-c", "1", "sockperf", "server", "--tcp", "-i", server.ipv4(), "-p", Integer.toString(SOCKPERF_PORT))
                    : null;
            try (Datapath dp = Datapath.open(config)) {
                if (!PREVIOUS_OBJECT.isEmpty()) previous = Datapath.open(config, Files.readAllBytes(Path.of(PREVIOUS_OBJECT)));
                dp.upsertIpcache(client.ipv4() + "/32", ID_CLIENT);
                dp.upsertIpcache(server.ipv4() + "/32", ID_SERVER);
                VerdictEventReader reader = dp.openEventReader(e -> { });
                var polling = new java.util.concurrent.atomic.AtomicBoolean(true);
                Thread poller = Thread.ofPlatform().daemon().start(() -> {
                    while (polling.get()) reader.poll(50); // the agent reads events while traffic flows
                });
                ServerSocket rrServer = NetNs.named(server.namespace()).call(() -> new ServerSocket(RR_PORT, 512));
                Thread.ofPlatform().daemon().start(() -> serveEcho(rrServer));
                awaitListening(server, IPERF_PORT);
                configure(lab, dp, client, server, "none"); // warm-up, not recorded: the first run of a fresh lab is slow
                iperf(client, server, 1);
                rrWithMedian(client, server, 1);
                for (int rep = 0; rep < reps; rep++) {
                    for (int slot = 0; slot < configs.size(); slot++) {
                        // each repetition starts one configuration later: none is not always measured first
                        String c = configs.get((slot + rep) % configs.size());
                        configure(lab, dp, client, server, c);
                        double gbps = iperf(client, server, secs);
                        double[] rr = rrWithMedian(client, server, secs);
                        double crr = javaRr(client, server, secs, true);
                        samples.computeIfAbsent(c, k -> new ArrayList<>()).add(new double[] {gbps, rr[0], rr[1], crr});
                        System.out.printf(Locale.ROOT, "rep %d %-15s %7.2f Gbit/s  %8.0f RR/s (%6.0f at the median RTT)  %7.0f CRR/s%n",
                                rep + 1, c, gbps, rr[0], rr[1], crr);
                        if (c.startsWith("sieve-") || c.startsWith(PREVIOUS)) {
                            double costSecs = Math.min(secs, 2);
                            Datapath programs = c.startsWith(PREVIOUS) ? previous : dp;
                            double[] ns = programCost(programs, () -> rrWithMedian(client, server, costSecs)[0]);
                            double[] bulk = programCost(programs, () -> iperf(client, server, costSecs));
                            costs.computeIfAbsent(c, k -> new ArrayList<>()).add(new double[] {ns[0], ns[1], bulk[0], bulk[1], bulk[2], bulk[3]});
                            System.out.printf(Locale.ROOT, "      %-15s program cost under TCP_RR: %.0f ns from pod, %.0f ns to pod; "
                                    + "under iperf3: %.0f ns from pod, %.0f ns to pod at %.0f + %.0f runs/s%n", c, ns[0], ns[1], bulk[0], bulk[1], bulk[2], bulk[3]);
                        }
                    }
                }
                if (SOCKPERF && PAIRS > 0) {
                    for (int n : SIZES) {
                        if (!configs.contains("sieve-" + n)) continue;
                        paired.put("sieve-" + n, pairedAb(lab, dp, client, server, "sieve-" + n, PAIRS, "TCP_RR/s at the median RTT",
                                () -> rrWithMedian(client, server, 1)[1]));
                        if (PAIRS_2S > 0) {
                            pairedGbps.put("sieve-" + n, pairedAb(lab, dp, client, server, "sieve-" + n, PAIRS_2S, "TCP Gbit/s",
                                    () -> iperf(client, server, 2)));
                        }
                        inStream.put("sieve-" + n, inStreamAb(lab, dp, client, server, "sieve-" + n, STREAM_PAIRS, STREAM_SEGMENT_SECS));
                    }
                    String stack = STACK_DELIVERY + SIZES[0];
                    if (configs.contains(stack)) {
                        paired.put(stack, pairedAb(lab, dp, client, server, stack, PAIRS, "TCP_RR/s at the median RTT",
                                () -> rrWithMedian(client, server, 1)[1]));
                        if (PAIRS_2S > 0) {
                            pairedGbps.put(stack, pairedAb(lab, dp, client, server, stack, PAIRS_2S, "TCP Gbit/s",
                                    () -> iperf(client, server, 2)));
                        }
                        inStream.put(stack, inStreamAb(lab, dp, client, server, stack, STREAM_PAIRS, STREAM_SEGMENT_SECS));
                    }
                }
                if (previous != null && COST_PAIRS > 0) {
                    for (int n : SIZES) {
                        if (configs.contains("sieve-" + n) && configs.contains(PREVIOUS + n) && COST_SIZES.contains(Integer.toString(n))) {
                            costAb.put("sieve-" + n, costAb(lab, dp, client, server, n, COST_PAIRS));
                        }
                    }
                }
                configure(lab, dp, client, server, "none");
                if (previous != null) previous.close();
                polling.set(false);
                poller.join(1000);
                reader.close();
                rrServer.close();
            } finally {
                iperf.close();
                if (sockperf != null) sockperf.close();
                Datapath.unpinAll(config);
            }
        }

        System.out.println("ring buffer -> decoded events (BPF_PROG_TEST_RUN producer) ...");
        RingBufferThroughput.Result drain = RingBufferThroughput.drain(5);
        RingBufferThroughput.Result live = RingBufferThroughput.run(3);
        System.out.println("program cost per path (BPF_PROG_TEST_RUN) ...");
        Map<String, Double> pathCost = ProgramCost.measure();
        pathCost.forEach((path, ns) -> System.out.printf(Locale.ROOT, "  %-40s %5.0f ns%n", path, ns));

        StringBuilder json = new StringBuilder("{\n  \"machine\": \"").append(machine()).append("\",\n");
        json.append("  \"tcp_rr_tool\": \"").append(SOCKPERF ? "sockperf ping-pong, client and server pinned to CPU 0 and 1" : "java loop").append("\",\n");
        json.append("  \"repetitions\": ").append(reps).append(",\n  \"seconds_per_measurement\": ").append(secs).append(",\n");
        json.append("  \"pod_to_pod\": {\n");
        double[] base = samples.containsKey("none") ? medians(samples.get("none")) : new double[4];
        int i = 0;
        for (String c : configs) {
            double[] m = medians(samples.get(c));
            json.append(String.format(Locale.ROOT,
                    "    \"%s\": {\"tcp_throughput_gbps\": %.3f, \"tcp_rr_per_s\": %.0f, \"tcp_rr_median_rtt_per_s\": %.0f, \"tcp_crr_per_s\": %.0f, "
                            + "\"throughput_vs_none_pct\": %.1f, \"rr_vs_none_pct\": %.1f, \"rr_median_rtt_vs_none_pct\": %.1f, "
                            + "\"crr_vs_none_pct\": %.1f, \"samples\": %s}%s%n",
                    c, m[0], m[1], m[2], m[3], pct(m[0], base[0]), pct(m[1], base[1]), pct(m[2], base[2]), pct(m[3], base[3]),
                    samplesJson(samples.get(c)), ++i < configs.size() ? "," : ""));
        }
        json.append("  },\n");
        json.append("  \"program_ns_per_packet_under_tcp_rr\": {");
        List<String> costJson = new ArrayList<>();
        for (var e : costs.entrySet()) {
            double[] m = medians(e.getValue());
            costJson.add(String.format(Locale.ROOT, "\"%s\": {\"from_pod\": %.0f, \"to_pod\": %.0f, \"under_iperf3_from_pod\": %.0f, "
                    + "\"under_iperf3_to_pod\": %.0f, \"under_iperf3_runs_per_s_from_pod\": %.0f, \"under_iperf3_runs_per_s_to_pod\": %.0f}",
                    e.getKey(), m[0], m[1], m[2], m[3], m[4], m[5]));
        }
        json.append(String.join(", ", costJson)).append("},\n");
        json.append("  \"tcp_rr_paired_1s_alternation\": {\"pairs\": ").append(PAIRS)
                .append(abJson(paired, "rr_median_rtt_per_s", "%.0f")).append("},\n");
        json.append("  \"program_cost_ab_previous_vs_this_under_tcp_rr\": {\"pairs\": ").append(COST_PAIRS)
                .append(", \"previous_object\": \"").append(PREVIOUS_OBJECT.isEmpty() ? "" : Path.of(PREVIOUS_OBJECT).getFileName()).append('"');
        costAb.forEach((c, r) -> json.append(String.format(Locale.ROOT, ", \"%s\": {\"previous_ns\": %.0f, \"this_ns\": %.0f, "
                + "\"median_pair_difference_pct\": %.1f, \"ci95_low_pct\": %.1f, \"ci95_high_pct\": %.1f, "
                + "\"crr_previous_per_s\": %.0f, \"crr_this_per_s\": %.0f, \"crr_median_pair_difference_pct\": %.1f, "
                + "\"crr_ci95_low_pct\": %.1f, \"crr_ci95_high_pct\": %.1f}", c, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])));
        json.append("},\n");
        json.append("  \"tcp_throughput_paired_2s_alternation\": {\"pairs\": ").append(PAIRS_2S)
                .append(abJson(pairedGbps, "gbps", "%.2f")).append("},\n");
        json.append("  \"tcp_throughput_in_stream_alternation\": {\"pairs\": ").append(STREAM_PAIRS).append(", \"segment_s\": ")
                .append(STREAM_SEGMENT_SECS).append(abJson(inStream, "gbps", "%.2f")).append("},\n");
        List<String> pathJson = new ArrayList<>();
        pathCost.forEach((path, ns) -> pathJson.add(String.format(Locale.ROOT, "\"%s\": %.0f", path, ns)));
        json.append("  \"program_ns_per_packet_test_run\": {").append(String.join(", ", pathJson)).append("},\n");
        json.append(String.format(Locale.ROOT,
                "  \"ring_buffer\": {\"drain_consumer_only_events_per_s\": %.0f, \"concurrent_consumed_events_per_s\": %.0f, "
                        + "\"concurrent_produced_packets_per_s\": %.0f}%n}%n",
                drain.eventsPerSecond(), live.eventsPerSecond(), live.producedPerSecond()));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, json);
        System.out.printf(Locale.ROOT, "ring buffer drain (consumer only): %.2f M events/s; concurrent: %.2f M events/s consumed%n",
                drain.eventsPerSecond() / 1e6, live.eventsPerSecond() / 1e6);
        System.out.println("wrote " + out);
    }

    /** The A/B results as JSON members (each preceded by ", "): per configuration none_X, sieve_X, the median difference and its interval. */
    static String abJson(Map<String, double[]> results, String unit, String valueFormat) {
        StringBuilder out = new StringBuilder();
        results.forEach((c, r) -> out.append(String.format(Locale.ROOT, ", \"%s\": {\"none_%s\": " + valueFormat + ", \"sieve_%s\": "
                + valueFormat + ", \"median_pair_difference_pct\": %.1f, \"ci95_low_pct\": %.1f, \"ci95_high_pct\": %.1f}",
                c, unit, r[0], unit, r[1], r[2], r[3], r[4])));
        return out.toString();
    }

    /** One measurement of a paired A/B, in its unit (higher is better). */
    interface Measurement {
        double run() throws Exception;
    }

    /**
     * The finely interleaved A/B: with n entries in place, short runs alternate between the
     * programs detached and attached (maps untouched, so only the programs differ), and each pair is
     * compared; every other pair measures Sieve first, so neither side is always the second run.
     * Slow drift of a shared machine cancels within a pair; the median of the pair differences is
     * the figure, with its distribution-free 95% confidence interval (order statistics of the sign
     * test). Returns [median none, median Sieve, median pair difference %, interval low %, interval high %].
     */
    static double[] pairedAb(Lab lab, Datapath dp, Pod client, Pod server, String c, int pairs, String what, Measurement m)
            throws Exception {
        configure(lab, dp, client, server, c);
        double[] r = alternate(dp, client, server, pairs, m);
        System.out.printf(Locale.ROOT, "paired %s %s: none %.2f, Sieve %.2f; median pair difference %+.1f%% (95%% CI %+.1f%% .. %+.1f%%)%n",
                c, what, r[0], r[1], r[2], r[3], r[4]);
        return r;
    }

    /**
     * Runs {@code m} in pairs, the programs detached for one and attached for the other (every
     * other pair attached first); returns [median none, median Sieve, median pair difference %,
     * interval low %, interval high %]. Leaves the programs attached.
     */
    static double[] alternate(Datapath dp, Pod client, Pod server, int pairs, Measurement m) throws Exception {
        List<Double> off = new ArrayList<>(), on = new ArrayList<>(), diff = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            double a = 0;
            double b = 0;
            for (boolean attached : i % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                if (attached) {
                    dp.attach(client.hostInterface());
                    dp.attach(server.hostInterface());
                    b = m.run();
                } else {
                    dp.detach(client.hostInterface());
                    dp.detach(server.hostInterface());
                    a = m.run();
                }
            }
            if (Double.isNaN(a) || Double.isNaN(b)) {
                System.out.printf(Locale.ROOT, "  pair %d left out: a window without a figure (machine too busy)%n", i);
                continue;
            }
            off.add(a);
            on.add(b);
            diff.add((b / a - 1) * 100);
            if (VERBOSE) {
                System.out.printf(Locale.ROOT, "  pair %d: none %.2f, Sieve %.2f%n", i, a, b);
            }
        }
        dp.attach(client.hostInterface());
        dp.attach(server.hostInterface());
        double[] ci = medianInterval(diff);
        return new double[] {median(off), median(on), median(diff), ci[0], ci[1]};
    }

    /**
     * The programs' own cost, previous version against this one, finely interleaved: with n entries in place (the
     * same maps), 1 s TCP_RR windows alternate the previous object's programs and this one's (every other pair this
     * one first), each window's from-pod ns per run read from the kernel's BPF stats of the programs attached in it.
     * Returns [median ns previous, median ns this, median pair difference %, interval low %, interval high %].
     */
    static double[] costAb(Lab lab, Datapath dp, Pod client, Pod server, int n, int pairs) throws Exception {
        configure(lab, dp, client, server, "sieve-" + n);
        List<Double> before = new ArrayList<>(), after = new ArrayList<>(), diff = new ArrayList<>();
        List<Double> crrBefore = new ArrayList<>(), crrAfter = new ArrayList<>(), crrDiff = new ArrayList<>();
        for (int i = 0; i < pairs; i++) {
            double a = 0, b = 0, ca = 0, cb = 0;
            for (boolean current : i % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                Datapath programs = current ? dp : previous;
                programs.attach(client.hostInterface());
                programs.attach(server.hostInterface());
                double ns;
                try {
                    ns = programCost(programs, () -> rrWithMedian(client, server, 1)[0])[0];
                } catch (IllegalStateException e) {
                    ns = Double.NaN;
                }
                double crr = javaRr(client, server, 1, true); // new connections per second, the same programs
                if (current) {
                    b = ns;
                    cb = crr;
                } else {
                    a = ns;
                    ca = crr;
                }
            }
            if (ca > 0 && cb > 0) {
                crrBefore.add(ca);
                crrAfter.add(cb);
                crrDiff.add((cb / ca - 1) * 100);
            }
            if (Double.isNaN(a) || Double.isNaN(b) || a == 0 || b == 0) {
                System.out.printf(Locale.ROOT, "  pair %d left out: a window without a figure (machine too busy)%n", i);
                continue;
            }
            before.add(a);
            after.add(b);
            diff.add((b / a - 1) * 100);
            if (VERBOSE) System.out.printf(Locale.ROOT, "  pair %d: previous %.0f ns, this %.0f ns%n", i, a, b);
        }
        dp.attach(client.hostInterface());
        dp.attach(server.hostInterface());
        double[] ci = medianInterval(diff);
        double[] crrCi = medianInterval(crrDiff);
        double[] r = {median(before), median(after), median(diff), ci[0], ci[1],
            median(crrBefore), median(crrAfter), median(crrDiff), crrCi[0], crrCi[1]};
        System.out.printf(Locale.ROOT, "cost A/B sieve-%d, from-pod ns per run under TCP_RR (%d pairs of 1 s): previous %.0f, this %.0f; "
                + "median pair difference %+.1f%% (95%% CI %+.1f%% .. %+.1f%%)%n", n, pairs, r[0], r[1], r[2], r[3], r[4]);
        System.out.printf(Locale.ROOT, "A/B sieve-%d, new connections/s (TCP_CRR, 1 s beside each window): previous %.0f, this %.0f; "
                + "median pair difference %+.1f%% (95%% CI %+.1f%% .. %+.1f%%)%n", n, r[5], r[6], r[7], r[8], r[9]);
        return r;
    }

    /**
     * Throughput A/B inside one iperf3 stream: while a single long stream runs, the programs are
     * attached and detached every {@code segmentSecs}, and each segment's rate is the bytes the
     * client's host veth received in it (what the client pod sent, counted before any program runs
     * and whichever way the packet is delivered; read in the node namespace at both ends of the
     * segment, 20 ms after the switch). Adjacent segments form a pair, every other pair attached
     * first. With pairs a second apart, the host's slower swings cancel within a pair, which the 2 s
     * runs of {@link #pairedAb} (a new connection, slow start and all, for each) do not manage on a
     * noisy node; each stream also carries many more pairs per minute. Returns what pairedAb does.
     */
    static double[] inStreamAb(Lab lab, Datapath dp, Pod client, Pod server, String c, int pairs, double segmentSecs)
            throws Exception {
        configure(lab, dp, client, server, c);
        long streamSecs = (long) Math.ceil(2 * pairs * (segmentSecs + 0.1) + 5); // ends after the last segment
        NetNs node = NetNs.named(lab.nodeNamespace());
        double[] r;
        try (BackgroundProcess stream = client.start("taskset", "-c", "0", "iperf3", "-c", server.ipv4(), "-p",
                Integer.toString(IPERF_PORT), "-t", Long.toString(streamSecs))) {
            Thread.sleep(1_500); // connected, past slow start
            r = alternate(dp, client, server, pairs, () -> {
                Thread.sleep(20);
                long[] start = node.call(() -> rxBytes(client.hostInterface()));
                Thread.sleep((long) (segmentSecs * 1000));
                long[] end = node.call(() -> rxBytes(client.hostInterface()));
                return (end[0] - start[0]) * 8.0 / (end[1] - start[1]);
            });
            if (!stream.isAlive()) {
                throw new IllegalStateException("the iperf3 stream ended before the last segment: " + stream.stderr());
            }
            stream.waitFor(Duration.ofSeconds(streamSecs + 10)); // let it end, so the server takes the next test
        }
        System.out.printf(Locale.ROOT, "in-stream %s TCP Gbit/s (%d pairs of %.1f s segments): none %.2f, Sieve %.2f; "
                + "median pair difference %+.1f%% (95%% CI %+.1f%% .. %+.1f%%)%n", c, pairs, segmentSecs, r[0], r[1], r[2], r[3], r[4]);
        return r;
    }

    /** [rx bytes of {@code ifname}, System.nanoTime()] in the calling thread's network namespace. */
    static long[] rxBytes(String ifname) throws java.io.IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/net/dev"))) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equals(ifname)) {
                String[] f = line.substring(colon + 1).strip().split("\\s+");
                return new long[] {Long.parseLong(f[0]), System.nanoTime()};
            }
        }
        throw new IllegalStateException(ifname + " not in /proc/net/dev");
    }

    /**
     * 95% confidence interval of the median: the k-th smallest and k-th largest values, k the
     * largest rank with P(Binomial(n, 1/2) < k) <= 2.5% (at least 1: with few pairs the range).
     */
    static double[] medianInterval(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = a.length;
        if (n < 2) return new double[] {Double.NaN, Double.NaN};
        int k = 1;
        while (true) {
            double below = 0; // P(X <= k) for X ~ Bin(n, 1/2), i.e. P(X < k + 1)
            for (int i = 0; i <= k; i++) {
                below += Math.exp(logChoose(n, i) - n * Math.log(2));
            }
            if (below > 0.025 || k + 1 > n / 2) {
                break;
            }
            k++;
        }
        return new double[] {a[k - 1], a[n - k]};
    }

    private static double logChoose(int n, int k) {
        double r = 0;
        for (int i = 0; i < k; i++) {
            r += Math.log(n - i) - Math.log(i + 1);
        }
        return r;
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (a.length == 0) return Double.NaN;
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    static double pct(double v, double base) {
        return base == 0 ? 0 : (v / base - 1) * 100;
    }

    static String samplesJson(List<double[]> s) {
        List<String> parts = new ArrayList<>();
        for (double[] d : s) parts.add(String.format(Locale.ROOT, "[%.3f, %.0f, %.0f, %.0f]", d[0], d[1], d[2], d[3]));
        return "[" + String.join(", ", parts) + "]";
    }

    static double[] medians(List<double[]> s) {
        double[] m = new double[s.get(0).length];
        for (int k = 0; k < m.length; k++) {
            final int kk = k;
            m[k] = median(s.stream().map(d -> d[kk]).toList());
        }
        return m;
    }

    static String machine() {
        return Runtime.getRuntime().availableProcessors() + " CPUs, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", Java " + Runtime.version();
    }

    static List<String> addresses(Pod pod) {
        List<String> a = new ArrayList<>(List.of(pod.ipv4()));
        pod.ipv6().ifPresent(a::add);
        return a;
    }

    /** Puts one configuration in place: programs and entries, or iptables rules, or neither. */
    static void configure(Lab lab, Datapath dp, Pod client, Pod server, String c) throws Exception {
        boolean sieve = c.startsWith("sieve-") || c.startsWith(PREVIOUS);
        Datapath programs = c.startsWith(PREVIOUS) ? previous : dp;
        boolean ipt = c.startsWith("iptables-");
        int n = sieve || ipt ? Integer.parseInt(c.substring(c.lastIndexOf('-') + 1)) : 0;
        if (sieve) {
            dp.setLocalDelivery(c.startsWith(STACK_DELIVERY) ? LocalDelivery.STACK : LocalDelivery.BPF);
            int ci = programs.attach(client.hostInterface());
            int si = programs.attach(server.hostInterface());
            // with their addresses, as the agent sets them: the source check on, and bpf delivery finds each by address
            dp.setEndpoint(ci, new EndpointConfig(ci, ID_CLIENT, true, true, false, addresses(client)));
            dp.setEndpoint(si, new EndpointConfig(si, ID_SERVER, true, true, false, addresses(server)));
            dp.applyPolicy(ci, entries(Direction.EGRESS, ID_SERVER, n));
            dp.applyPolicy(si, entries(Direction.INGRESS, ID_CLIENT, n));
        } else {
            for (Pod p : List.of(client, server)) {
                if (dp.attachedPrograms(p.hostInterface())[0] != 0) {
                    int idx = dp.ifindex(p.hostInterface());
                    dp.removeEndpoint(idx);
                    dp.detach(p.hostInterface());
                }
            }
        }
        StringBuilder rules = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        if (ipt) {
            rules.append(":FORWARD DROP [0:0]\n-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n");
            for (int i = 0; i < n - 3; i++) {
                rules.append("-A FORWARD -s 10.200.").append(i >> 8).append('.').append(i & 0xff).append("/32 -d ")
                     .append(server.ipv4()).append(" -p tcp --dport ").append(10000 + i % 50000).append(" -j ACCEPT\n");
            }
            for (int port : new int[] {IPERF_PORT, RR_PORT, SOCKPERF_PORT}) {
                rules.append("-A FORWARD -s ").append(client.ipv4()).append(" -d ").append(server.ipv4())
                     .append(" -p tcp --dport ").append(port).append(" -j ACCEPT\n");
            }
        } else {
            rules.append(":FORWARD ACCEPT [0:0]\n");
        }
        rules.append("COMMIT\n");
        Path f = Files.createTempFile("sieve-bench-", ".rules");
        try {
            Files.writeString(f, rules);
            lab.execNode("iptables-restore", f.toString()).orThrow("iptables-restore (" + c + ")");
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** n entries for one direction: n-3 for other identities and ports, then the three the benchmark uses. */
    static List<PolicyMapEntry> entries(Direction d, int peer, int n) {
        List<PolicyMapEntry> l = new ArrayList<>();
        for (int i = 0; i < n - 3; i++) {
            l.add(PolicyMapEntry.allow(d, 200_000 + i, PolicyMapEntry.TCP, 10000 + i % 50000, 10000 + i % 50000, 1000 + i));
        }
        l.add(PolicyMapEntry.allow(d, peer, PolicyMapEntry.TCP, IPERF_PORT, IPERF_PORT, 1));
        l.add(PolicyMapEntry.allow(d, peer, PolicyMapEntry.TCP, RR_PORT, RR_PORT, 2));
        l.add(PolicyMapEntry.allow(d, peer, PolicyMapEntry.TCP, SOCKPERF_PORT, SOCKPERF_PORT, 3));
        return l;
    }

    static void awaitListening(Pod p, int port) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            ExecResult r = p.exec("ss", "-Hltn", "sport = :" + port);
            if (r.ok() && !r.stdout().isBlank()) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new IllegalStateException("nothing listens on " + p.name() + ":" + port);
    }

    private static final Pattern RECEIVED = Pattern.compile("\"sum_received\"\\s*:\\s*\\{[^}]*?\"bits_per_second\"\\s*:\\s*([0-9.eE+]+)", Pattern.DOTALL);

    static double iperf(Pod client, Pod server, double secs) {
        ExecResult r = client.exec(Duration.ofSeconds((long) secs + 20), "taskset", "-c", "0", "iperf3", "-c", server.ipv4(), "-p",
                Integer.toString(IPERF_PORT), "-t", String.format(Locale.ROOT, "%.1f", secs), "-J");
        Matcher m = RECEIVED.matcher(r.stdout());
        if (!r.ok() || !m.find()) {
            throw new IllegalStateException("iperf3 failed: " + r.stderr() + r.stdout().lines().limit(20).toList());
        }
        return Double.parseDouble(m.group(1)) / 1e9;
    }

    private static final Pattern SOCKPERF_RESULT = Pattern.compile("RunTime=([0-9.]+) sec; SentMessages=\\d+; ReceivedMessages=(\\d+)");
    private static final Pattern SOCKPERF_MEDIAN = Pattern.compile("percentile 50\\.000 =\\s*([0-9.]+)");

    /**
     * TCP_RR as [transactions/s over the run, transactions/s at the median round trip]. The second
     * is robust against the scheduling hiccups of shared vCPUs, which move the mean by ±20% here.
     */
    static double[] rrWithMedian(Pod client, Pod server, double secs) {
        if (!SOCKPERF) {
            double rr = javaRr(client, server, secs, false);
            return new double[] {rr, rr};
        }
        ExecResult r = sockperf(client, server, secs);
        String out = r.stdout() + r.stderr();
        Matcher total = SOCKPERF_RESULT.matcher(out);
        Matcher median = SOCKPERF_MEDIAN.matcher(out);
        if (!total.find()) {
            throw new IllegalStateException("sockperf: unexpected output " + r.stdout().lines().limit(20).toList());
        }
        if (!median.find()) { // "No valid observations": a window too starved (a loaded machine) for sockperf's statistics
            return new double[] {Long.parseLong(total.group(2)) / Double.parseDouble(total.group(1)), Double.NaN};
        }
        // sockperf reports half the round trip as the latency
        return new double[] {Long.parseLong(total.group(2)) / Double.parseDouble(total.group(1)), 1e6 / (2 * Double.parseDouble(median.group(1)))};
    }

    static ExecResult sockperf(Pod client, Pod server, double secs) {
        ExecResult r = client.exec(Duration.ofSeconds((long) secs + 20), "taskset", "-c", "0", "sockperf", "ping-pong", "--tcp",
                "-i", server.ipv4(), "-p", Integer.toString(SOCKPERF_PORT), "-m", "14",
                "-t", Integer.toString((int) Math.max(1, Math.round(secs))));
        if (!r.ok()) throw new IllegalStateException("sockperf failed: " + r.stderr() + r.stdout().lines().limit(20).toList());
        return r;
    }

    /** Transactions per second of 1-byte request/response from a Java client: on one connection, or a new connection each (crr). */
    static double javaRr(Pod client, Pod server, double secs, boolean crr) {
        InetSocketAddress to = new InetSocketAddress(server.ipv4(), RR_PORT);
        return NetNs.named(client.namespace()).call(() -> {
            long end = System.nanoTime() + (long) (secs * 1e9);
            long n = 0;
            long t0 = System.nanoTime();
            byte[] buf = new byte[1];
            Socket s = null;
            try {
                while (System.nanoTime() < end) {
                    if (s == null) {
                        s = new Socket();
                        s.setTcpNoDelay(true);
                        s.setSoLinger(true, 0); // RST on close: no TIME_WAIT pile-up over many connections
                        s.setSoTimeout(2000); // a lost packet must fail the run, not hang it
                        s.connect(to, 2000);
                    }
                    OutputStream o = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    for (int k = 0; k < (crr ? 1 : 100); k++) {
                        o.write(7);
                        if (in.read(buf) != 1) throw new IllegalStateException("short read");
                        n++;
                    }
                    if (crr) {
                        s.close();
                        s = null;
                    }
                }
            } finally {
                if (s != null) s.close();
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        });
    }

    /**
     * [ns per run from pod, to pod, runs/s from pod, to pod] while {@code load} runs, from the kernel's own accounting
     * (kernel.bpf_stats_enabled, on only for this probe since it adds two clock reads per run) of this datapath's two
     * programs: read from their fds' fdinfo, so the Sieve programs of other agents or tests on the machine do not count.
     */
    static double[] programCost(Datapath dp, Measurement load) throws Exception {
        Path stats = Path.of("/proc/sys/kernel/bpf_stats_enabled");
        String statsWere = Files.readString(stats).trim();
        Files.writeString(stats, "1");
        try {
            long[] before = progStats(dp);
            long t0 = System.nanoTime();
            load.run();
            double secs = (System.nanoTime() - t0) / 1e9;
            long[] after = progStats(dp);
            return new double[] {
                (after[0] - before[0]) / (double) Math.max(1, after[1] - before[1]),
                (after[2] - before[2]) / (double) Math.max(1, after[3] - before[3]),
                (after[1] - before[1]) / secs, (after[3] - before[3]) / secs};
        } finally {
            Files.writeString(stats, statsWere);
        }
    }

    private static final Pattern FDINFO_STATS = Pattern.compile("run_time_ns:\\s*(\\d+)\\s+run_cnt:\\s*(\\d+)");

    /** [from-pod run_time_ns, run_cnt, to-pod run_time_ns, run_cnt] of this datapath's programs. */
    static long[] progStats(Datapath dp) throws Exception {
        long[] s = new long[4];
        int[] fds = {dp.programFd(Datapath.PROG_FROM_POD), dp.programFd(Datapath.PROG_TO_POD)};
        for (int i = 0; i < 2; i++) {
            Matcher m = FDINFO_STATS.matcher(Files.readString(Path.of("/proc/self/fdinfo/" + fds[i])));
            if (m.find()) {
                s[2 * i] = Long.parseLong(m.group(1));
                s[2 * i + 1] = Long.parseLong(m.group(2));
            }
        }
        return s;
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    static void serveEcho(ServerSocket ss) {
        while (!ss.isClosed()) {
            try {
                Socket c = ss.accept();
                Thread.ofVirtual().start(() -> {
                    try (c) {
                        c.setTcpNoDelay(true);
                        InputStream in = c.getInputStream();
                        OutputStream o = c.getOutputStream();
                        int b;
                        while ((b = in.read()) >= 0) o.write(b);
                    } catch (java.io.IOException ignored) {
                        // peer reset
                    }
                });
            } catch (java.io.IOException e) {
                return;
            }
        }
    }
}
