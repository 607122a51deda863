package dev.sieve.enforcer.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.lab.Lab;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Truncated and random frames through both programs (BPF_PROG_TEST_RUN on the loopback's
 * ifindex, configured as an enforced endpoint): the verdict is always pass or drop, never an
 * error; bad headers are dropped with an event, not crashed on.
 */
class MalformedPacketTest {
    @Test
    void randomAndTruncatedFramesAreHandled() {
        BpfAssumptions.assumeBpfUsable();
        DatapathConfig config = DatapathConfig.of("fuzz-" + Lab.claimRandomPrefix()).withRingBufferBytes(1 << 16);
        try (Datapath dp = BpfAssumptions.openOrSkip(config)) {
            dp.setEndpoint(1, new EndpointConfig(5, 1005, true, true, false));
            byte[] good = Packets.tcp4(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, 1234, 80, 0x02);
            Random r = new Random(7);
            int drops = 0;
            int ran = 0;
            for (String prog : new String[] {Datapath.PROG_FROM_POD, Datapath.PROG_TO_POD}) {
                int fd = dp.programFd(prog);
                for (int i = 0; i < 2000; i++) {
                    byte[] p;
                    if (i % 2 == 0) { // truncations of a good frame, then corrupt a byte
                        p = java.util.Arrays.copyOf(good, 14 + r.nextInt(good.length - 13));
                        if (p.length > 14) {
                            p[14 + r.nextInt(p.length - 14)] ^= (byte) (1 + r.nextInt(255));
                        }
                    } else { // random bytes behind an IPv4 or IPv6 ethertype
                        p = new byte[14 + r.nextInt(120)];
                        r.nextBytes(p);
                        p[12] = (byte) (r.nextBoolean() ? 0x08 : 0x86);
                        p[13] = (byte) (p[12] == 0x08 ? 0x00 : 0xdd);
                    }
                    int rc;
                    try {
                        rc = ProgramTestRun.run(fd, p, null, 1).retval();
                    } catch (BpfException e) {
                        // the test-run harness itself refuses frames whose IP header is shorter than 20/40 bytes
                        assertThat(e.errno()).isEqualTo(22);
                        continue;
                    }
                    ran++;
                    assertThat(rc).as("tc verdict for frame %d", i).isIn(0, 2);
                    if (rc == 2) {
                        drops++;
                    }
                }
            }
            assertThat(ran).as("frames the kernel ran").isGreaterThan(1000);
            assertThat(drops).as("enforced endpoint with no policy drops something").isPositive();
        } finally {
            Datapath.unpinAll(config);
            Lab.release(config.prefix().substring(config.prefix().lastIndexOf('-') + 1));
        }
    }
}
