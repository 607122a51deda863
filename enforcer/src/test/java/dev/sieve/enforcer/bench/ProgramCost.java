package dev.sieve.enforcer.bench;

import static dev.sieve.enforcer.maps.Direction.EGRESS;

import dev.sieve.enforcer.datapath.AggregationLevel;
import dev.sieve.enforcer.datapath.BpfAssumptions;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.EndpointConfig;
import dev.sieve.enforcer.datapath.Packets;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.Lab;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The programs' own cost per packet on each path, by BPF_PROG_TEST_RUN: the kernel runs the
 * real program {@code REPEAT} times on one packet and reports the mean ns per run. Unlike whole
 * process benchmarks this barely moves with the load of a shared machine (median of 15 runs), so
 * it is the figure to compare program versions by. Paths: a packet of an established TCP
 * connection in its original direction and as a reply (the request/response fast path), the
 * same for IPv6, and a new connection (a bare SYN: policy lookups, conntrack write, an event).
 */
public final class ProgramCost {
    static final int REPEAT = 200_000;
    static final int RUNS = 15;
    static final byte[] POD4 = {10, 0, 0, 1};
    static final byte[] PEER4 = {10, 0, 0, 2};
    static final byte[] POD6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static final byte[] PEER6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    static final int PSH_ACK = 0x18;
    static final int SYN = 0x02;

    /** Median ns per run for each path, in a fixed order. */
    public static Map<String, Double> measure() {
        DatapathConfig config = DatapathConfig.of("cost-" + Lab.claimRandomPrefix())
                .withRingBufferBytes(1 << 26).withAggregation(AggregationLevel.MEDIUM);
        try (Datapath dp = Datapath.open(config)) {
            // test runs see the loopback's ifindex: one endpoint there, enforcing both directions
            dp.setEndpoint(1, new EndpointConfig(9, 1009, true, true, false));
            dp.upsertIpcache("10.0.0.2/32", 2002);
            dp.upsertIpcache("fd00::2/128", 2002);
            dp.applyPolicy(9, List.of(PolicyMapEntry.allow(EGRESS, 2002, 6, 80, 80, 1)));
            int from = dp.programFd(Datapath.PROG_FROM_POD);
            int to = dp.programFd(Datapath.PROG_TO_POD);
            byte[] syn4 = Packets.tcp4(POD4, PEER4, 40000, 80, SYN);
            byte[] req4 = Packets.tcp4(POD4, PEER4, 40000, 80, PSH_ACK);
            byte[] rep4 = Packets.tcp4(PEER4, POD4, 80, 40000, PSH_ACK);
            byte[] syn6 = Packets.ipv6(POD6, PEER6, 6, false, Packets.tcp(40000, 80, SYN));
            byte[] req6 = Packets.ipv6(POD6, PEER6, 6, false, Packets.tcp(40000, 80, PSH_ACK));
            byte[] rep6 = Packets.ipv6(PEER6, POD6, 6, false, Packets.tcp(80, 40000, PSH_ACK));
            try (VerdictEventReader reader = dp.openEventReader(e -> { })) {
                // open both connections (SYN, then the reply's flags seen once so nothing reports)
                for (byte[] p : List.of(syn4, req4, syn6, req6)) {
                    ProgramTestRun.run(from, p, null, 1);
                }
                ProgramTestRun.run(to, rep4, null, 1);
                ProgramTestRun.run(to, rep6, null, 1);
                reader.drain();
                Map<String, Double> out = new LinkedHashMap<>();
                out.put("ipv4 established, original direction", median(from, req4, reader, REPEAT));
                out.put("ipv4 established, reply", median(to, rep4, reader, REPEAT));
                out.put("ipv6 established, original direction", median(from, req6, reader, REPEAT));
                out.put("ipv6 established, reply", median(to, rep6, reader, REPEAT));
                out.put("ipv4 new connection (SYN, event)", median(from, syn4, reader, 20_000)); // under an eighth of the ring: no forced wakeups
                return out;
            }
        } finally {
            BpfAssumptions.closeAll(null, null, config); // the datapath is closed above: pins and prefix
        }
    }

    private static double median(int fd, byte[] packet, VerdictEventReader reader, int repeat) {
        ProgramTestRun.run(fd, packet, null, repeat); // warm-up
        reader.drain();
        double[] ns = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            ns[i] = ProgramTestRun.run(fd, packet, null, repeat).durationNs();
            reader.drain(); // a SYN run emits an event per packet: keep the ring from filling
        }
        Arrays.sort(ns);
        return ns[RUNS / 2];
    }

    public static void main(String[] args) {
        measure().forEach((path, ns) -> System.out.printf("%-40s %6.0f ns%n", path, ns));
    }
}
