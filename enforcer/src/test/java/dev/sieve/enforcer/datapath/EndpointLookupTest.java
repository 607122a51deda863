package dev.sieve.enforcer.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.Lab;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where the programs find an endpoint: in the ifindex-indexed array below its size, in the hash
 * above it. Removing an endpoint clears both; opening the datapath again fills the array from the
 * hash (pins of a version without the array). The real from-pod program under BPF_PROG_TEST_RUN,
 * on the node namespace's loopback (ifindex 1) and on a veth of ifindex 70001 there
 * (a test run takes its device from the context's ifindex). An endpoint that enforces egress with
 * no policy drops a SYN and reports it; without an endpoint the packet passes unreported.
 */
class EndpointLookupTest {
    static final int HIGH_IFINDEX = 70_001;
    static final int SKB_IFINDEX_OFFSET = 40; // struct __sk_buff.ifindex
    static final byte[] SRC = {10, 0, 0, 1};
    static final byte[] DST = {10, 0, 0, 2};

    Lab lab;
    DatapathConfig config;
    Datapath dp;
    VerdictEventReader reader;
    final List<VerdictEvent> events = new ArrayList<>();

    @BeforeEach
    void setUp() {
        BpfAssumptions.assumeBpfUsable();
        lab = Lab.create();
        lab.execNode("ip", "link", "add", "hi0", "index", Integer.toString(HIGH_IFINDEX), "type", "veth", "peer", "name", "hi1").orThrow("ip link add hi0");
        lab.execNode("ip", "link", "set", "hi0", "up").orThrow("ip link set hi0 up");
        config = DatapathConfig.of("eplookup-" + Lab.claimRandomPrefix());
        open();
    }

    void open() {
        dp = BpfAssumptions.openOrSkip(config);
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
    }

    @AfterEach
    void tearDown() {
        BpfAssumptions.closeAll(reader, dp, config);
        if (lab != null) {
            lab.close();
        }
    }

    /** Runs the from-pod program on a SYN arriving on {@code ifindex}; returns the tc action. */
    int synOn(int ifindex) {
        byte[] syn = Packets.tcp4(SRC, DST, 40000, 80, 0x02);
        int fd = dp.programFd(Datapath.PROG_FROM_POD);
        return NetNs.named(lab.nodeNamespace()).call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment ctx = a.allocate(SKB_IFINDEX_OFFSET + 4);
                ctx.set(ValueLayout.JAVA_INT, SKB_IFINDEX_OFFSET, ifindex);
                return ProgramTestRun.run(fd, syn, ctx, 1).retval();
            }
        });
    }

    List<VerdictEvent> drained() {
        reader.drain();
        List<VerdictEvent> out = List.copyOf(events);
        events.clear();
        return out;
    }

    @Test
    void anEndpointAboveTheArrayIsJudgedThroughTheHash() {
        assertThat(synOn(HIGH_IFINDEX)).as("no endpoint yet: passes").isZero();
        assertThat(drained()).isEmpty();

        dp.setEndpoint(HIGH_IFINDEX, new EndpointConfig(4, 1004, true, true, false));
        assertThat(synOn(HIGH_IFINDEX)).as("enforced, no policy: dropped").isEqualTo(2);
        List<VerdictEvent> dropped = drained();
        assertThat(dropped).hasSize(1);
        assertThat(dropped.getFirst().ifindex()).isEqualTo(HIGH_IFINDEX);
        assertThat(dropped.getFirst().srcIdentity()).isEqualTo(1004);
        assertThat(dropped.getFirst().dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);

        dp.removeEndpoint(HIGH_IFINDEX);
        assertThat(synOn(HIGH_IFINDEX)).as("removed: passes").isZero();
        assertThat(drained()).isEmpty();
    }

    @Test
    void aRemovedEndpointLeavesNoArraySlotBehind() {
        dp.setEndpoint(1, new EndpointConfig(5, 1005, true, true, false));
        assertThat(synOn(1)).isEqualTo(2);
        assertThat(drained()).singleElement().satisfies(e -> assertThat(e.srcIdentity()).isEqualTo(1005));

        dp.removeEndpoint(1);
        assertThat(dp.endpoints()).isEmpty();
        assertThat(synOn(1)).as("removed: passes").isZero();
        assertThat(drained()).isEmpty();
    }

    @Test
    void openingAgainFillsTheArrayFromTheHash() throws Exception {
        dp.setEndpoint(1, new EndpointConfig(6, 1006, true, true, false));
        reader.close();
        reader = null;
        dp.close();
        dp = null;
        // as if the pins came from a version that had only the hash: the array is created empty
        Files.delete(config.pinDir().resolve("sieve_ep_array_v2"));

        open();
        assertThat(synOn(1)).as("the endpoint is enforced again").isEqualTo(2);
        assertThat(drained()).singleElement().satisfies(e -> assertThat(e.srcIdentity()).isEqualTo(1006));
    }
}
