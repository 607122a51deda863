package dev.sieve.enforcer.bench;

import dev.sieve.enforcer.datapath.AggregationLevel;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.EndpointConfig;
import dev.sieve.enforcer.datapath.Packets;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.events.VerdictEventView;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.Lab;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ring buffer -> decoded Java event throughput. A producer thread runs the real program with
 * BPF_PROG_TEST_RUN (aggregation NONE: one event per packet, an established TCP flow), a
 * consumer thread polls the ring and decodes every event field through {@link VerdictEventView}.
 * Run: {@code java --enable-native-access=ALL-UNNAMED -cp ... dev.sieve.enforcer.bench.RingBufferThroughput [seconds]}.
 */
public final class RingBufferThroughput {
    public record Result(long produced, long consumed, double seconds, long checksum) {
        public double eventsPerSecond() {
            return consumed / seconds;
        }

        public double producedPerSecond() {
            return produced / seconds;
        }
    }

    public static Result run(double seconds) throws InterruptedException {
        DatapathConfig config = DatapathConfig.of("bench-" + Lab.claimRandomPrefix())
                .withRingBufferBytes(1 << 26).withAggregation(AggregationLevel.NONE);
        try (Datapath dp = Datapath.open(config)) {
            dp.setEndpoint(1, new EndpointConfig(9, 1009, true, true, false));
            dp.applyPolicy(9, List.of(PolicyMapEntry.allow(Direction.EGRESS, 0, 6, 80, 80, 1)));
            int fd = dp.programFd(Datapath.PROG_FROM_POD);
            byte[] pkt = Packets.tcp4(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, 1234, 80, 0x10);
            AtomicLong consumed = new AtomicLong();
            long[] sum = {0};
            VerdictEventReader reader = dp.openEventReader(e -> {
                // touch every field a flow needs, as the observer would
                sum[0] += e.timestampNs() + e.srcIdentity() + e.dstIdentity() + e.ruleId() + e.verdict()
                        + e.dropReason() + e.srcPort() + e.dstPort() + e.protocol() + e.tcpFlags()
                        + e.packetLen() + e.directionCode() + e.family();
                consumed.lazySet(consumed.get() + 1);
            });
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong produced = new AtomicLong();
            Thread producer = Thread.ofPlatform().name("bench-producer").start(() -> {
                while (running.get()) {
                    ProgramTestRun.run(fd, pkt, null, 20_000);
                    produced.addAndGet(20_000);
                }
            });
            // warm up
            long warmEnd = System.nanoTime() + 1_000_000_000L;
            while (System.nanoTime() < warmEnd) {
                reader.poll(10);
            }
            long c0 = consumed.get();
            long p0 = produced.get();
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                reader.poll(10);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            long c = consumed.get() - c0;
            long p = produced.get() - p0;
            running.set(false);
            producer.join();
            reader.close();
            return new Result(p, c, secs, sum[0]);
        } finally {
            Datapath.unpinAll(config);
            Lab.release(config.prefix().substring(config.prefix().lastIndexOf('-') + 1));
        }
    }

    /**
     * Consumer-only figure: fill the ring with the producer stopped, then time draining it
     * (ring buffer -> decoded event, without sharing the CPU with BPF_PROG_TEST_RUN).
     */
    public static Result drain(int rounds) {
        DatapathConfig config = DatapathConfig.of("bench-" + Lab.claimRandomPrefix())
                .withRingBufferBytes(1 << 26).withAggregation(AggregationLevel.NONE);
        try (Datapath dp = Datapath.open(config)) {
            dp.setEndpoint(1, new EndpointConfig(9, 1009, true, true, false));
            dp.applyPolicy(9, List.of(PolicyMapEntry.allow(Direction.EGRESS, 0, 6, 80, 80, 1)));
            int fd = dp.programFd(Datapath.PROG_FROM_POD);
            byte[] pkt = Packets.tcp4(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, 1234, 80, 0x10);
            long[] sum = {0, 0};
            try (VerdictEventReader reader = dp.openEventReader(e -> {
                sum[0] += e.timestampNs() + e.srcIdentity() + e.dstIdentity() + e.ruleId() + e.verdict()
                        + e.dropReason() + e.srcPort() + e.dstPort() + e.protocol() + e.tcpFlags()
                        + e.packetLen() + e.directionCode() + e.family();
                sum[1]++;
            })) {
                long consumed = 0;
                long nanos = 0;
                long produced = 0;
                for (int round = 0; round < rounds + 1; round++) {
                    int perRun = 50_000;
                    for (int i = 0; i < (1 << 26) / 88 / perRun + 1; i++) { // until the ring is full
                        ProgramTestRun.run(fd, pkt, null, perRun);
                        produced += perRun;
                    }
                    long before = sum[1];
                    long t0 = System.nanoTime();
                    while (reader.drain() > 0) {
                        // keep draining
                    }
                    long dt = System.nanoTime() - t0;
                    if (round > 0) { // round 0 warms up the JIT
                        consumed += sum[1] - before;
                        nanos += dt;
                    }
                }
                return new Result(produced, consumed, nanos / 1e9, sum[0]);
            }
        } finally {
            Datapath.unpinAll(config);
            Lab.release(config.prefix().substring(config.prefix().lastIndexOf('-') + 1));
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Result d = drain(5);
        System.out.printf("ring buffer drain (consumer only): %.2f M events/s (%d events in %.3f s)%n",
                d.eventsPerSecond() / 1e6, d.consumed(), d.seconds());
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        Result r = run(seconds);
        System.out.printf("ring buffer -> decoded events: %.2f M events/s consumed, %.2f M packets/s produced (%d events in %.1f s)%n",
                r.eventsPerSecond() / 1e6, r.producedPerSecond() / 1e6, r.consumed(), r.seconds());
    }
}
