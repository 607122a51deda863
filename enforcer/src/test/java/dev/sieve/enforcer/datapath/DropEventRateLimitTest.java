package dev.sieve.enforcer.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.DropKey;
import dev.sieve.enforcer.maps.MetricsKey;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.Lab;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * F19: a pod that keeps sending denied packets on one connection gets one drop event per second for it, not one per
 * packet, while the counters (per verdict and reason, and per reason and protocol for hubble_drop_total) count every
 * packet and the suppressed events are counted too. Another connection's drop is still reported at once, and with
 * aggregation NONE every drop is. The real from-pod program under BPF_PROG_TEST_RUN.
 */
class DropEventRateLimitTest {
    static final int SKB_IFINDEX_OFFSET = 40; // struct __sk_buff.ifindex
    static final byte[] SRC = {10, 0, 0, 1};
    static final byte[] DST = {10, 0, 0, 2};

    Lab lab;
    DatapathConfig config;
    Datapath dp;
    VerdictEventReader reader;
    final List<VerdictEvent> events = new ArrayList<>();

    void open(AggregationLevel level) {
        BpfAssumptions.assumeBpfUsable();
        lab = Lab.create();
        config = DatapathConfig.of("droprl-" + Lab.claimRandomPrefix()).withAggregation(level)
                .withMapSizes(dev.sieve.enforcer.datapath.MapSizes.DEFAULT.withConntrack(4096));
        dp = BpfAssumptions.openOrSkip(config);
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
        dp.setEndpoint(1, new EndpointConfig(7, 1007, true, true, false)); // enforced, no policy: everything dropped
    }

    @AfterEach
    void tearDown() {
        BpfAssumptions.closeAll(reader, dp, config);
        if (lab != null) lab.close();
    }

    int syn(int sport, int times) {
        byte[] syn = Packets.tcp4(SRC, DST, sport, 80, 0x02);
        int fd = dp.programFd(Datapath.PROG_FROM_POD);
        return NetNs.named(lab.nodeNamespace()).call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ctx = a.allocate(SKB_IFINDEX_OFFSET + 4);
                ctx.set(ValueLayout.JAVA_INT, SKB_IFINDEX_OFFSET, 1);
                return ProgramTestRun.run(fd, syn, ctx, times).retval();
            }
        });
    }

    List<VerdictEvent> drained() {
        reader.drain();
        List<VerdictEvent> out = List.copyOf(events);
        events.clear();
        return out;
    }

    long dropped() {
        return dp.metrics().get(new MetricsKey(VerdictEvent.DROPPED, Direction.EGRESS, VerdictEvent.POLICY_DENIED)).packets();
    }

    @Test
    void oneDropEventPerConnectionAndSecondEveryPacketCounted() throws Exception {
        open(AggregationLevel.MEDIUM);
        assertThat(syn(40000, 500)).isEqualTo(2);
        assertThat(drained()).as("500 denied SYNs of one connection: one event").hasSize(1);
        assertThat(dropped()).isEqualTo(500);
        assertThat(dp.drops().get(new DropKey(VerdictEvent.POLICY_DENIED, 6)).packets()).isEqualTo(500);
        assertThat(dp.suppressedDropEvents()).isEqualTo(499);

        assertThat(syn(40001, 1)).isEqualTo(2);
        assertThat(drained()).as("another connection: reported at once").singleElement()
                .satisfies(e -> assertThat(e.srcPort()).isEqualTo(40001));

        Thread.sleep(1100); // the interval is a second of the kernel's clock: nothing to wait on but time
        assertThat(syn(40000, 3)).isEqualTo(2);
        assertThat(drained()).as("a second later: one more event").hasSize(1);
        assertThat(dropped()).isEqualTo(504);
    }

    @Test
    void aggregationNoneReportsEveryDrop() {
        open(AggregationLevel.NONE);
        assertThat(syn(40000, 20)).isEqualTo(2);
        assertThat(drained()).hasSize(20);
        assertThat(dp.suppressedDropEvents()).isZero();
    }
}
