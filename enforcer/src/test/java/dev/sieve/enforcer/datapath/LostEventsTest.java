package dev.sieve.enforcer.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.maps.MetricsKey;
import dev.sieve.lab.Lab;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Events that do not fit the ring buffer are counted, never silently lost. */
class LostEventsTest {

    @Test
    void aFullRingCountsLostEvents() {
        BpfAssumptions.assumeBpfUsable();
        String lab = Lab.claimRandomPrefix();
        DatapathConfig config = DatapathConfig.of("lost-" + lab).withRingBufferBytes(4096).withAggregation(AggregationLevel.NONE);
        Datapath dp = BpfAssumptions.openOrSkip(config);
        try {
            dp.setEndpoint(1, new EndpointConfig(3, 1003, true, true, false));
            int fromPod = dp.programFd(Datapath.PROG_FROM_POD);
            byte[] packet = Packets.ipv4(ProgramVerdictTest.SRC4, ProgramVerdictTest.DST4, 17, Packets.ports(40000, 53));
            int sent = 200; // each event takes ~88 bytes with its header: a 4 KiB ring holds fewer than 50
            ProgramTestRun.run(fromPod, packet, null, sent);
            AtomicLong read = new AtomicLong();
            try (var reader = dp.openEventReader(e -> read.incrementAndGet())) {
                reader.drain();
            }
            long lost = dp.lostEvents();
            assertThat(read.get()).isPositive().isLessThan(sent);
            assertThat(lost).as("lost events counted").isEqualTo(sent - read.get());
            assertThat(dp.metrics()).containsKey(MetricsKey.LOST_EVENTS);
        } finally {
            dp.close();
            Datapath.unpinAll(config);
            Lab.release(lab);
        }
    }
}
