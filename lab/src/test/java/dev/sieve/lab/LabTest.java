package dev.sieve.lab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LabTest {
    private static Lab lab;
    private static Pod a;
    private static Pod b;
    private static Pod world;

    @BeforeAll
    static void setUp() {
        assumeTrue(Lab.canRun(), "lab tests need root and iproute2 (ip netns); skipped");
        lab = Lab.create();
        a = lab.addPod("a");
        b = lab.addPod("b");
        world = lab.addExternal("world");
    }

    @AfterAll
    static void tearDown() {
        if (lab != null) {
            String prefix = lab.prefix();
            lab.close();
            assertThat(Lab.namespacesOf(prefix)).isEmpty();
        }
    }

    @Test
    void podsReachEachOtherOverIpv4AndIpv6() {
        assertThat(a.exec("ping", "-c1", "-W1", b.ipv4()).exitCode()).isZero();
        assertThat(a.exec("ping", "-6", "-c1", "-W1", b.ipv6().orElseThrow()).exitCode()).isZero();
    }

    @Test
    void podsReachTheWorldAndTheNode() {
        assertThat(a.exec("ping", "-c1", "-W1", world.ipv4()).exitCode()).isZero();
        assertThat(world.exec("ping", "-6", "-c1", "-W1", a.ipv6().orElseThrow()).exitCode()).isZero();
        assertThat(a.exec("ping", "-c1", "-W1", Lab.NODE_IPV4).exitCode()).isZero();
    }

    @Test
    void tcpBetweenPods() {
        try (BackgroundProcess server = b.start("nc", "-lk", "7001")) {
            ExecResult r = null;
            for (int i = 0; i < 20; i++) { // until the server listens
                r = a.exec(Duration.ofSeconds(3), "nc", "-z", "-w", "1", b.ipv4(), "7001");
                if (r.ok()) {
                    break;
                }
                sleep(50);
            }
            assertThat(r.exitCode()).as(r.stderr() + server.stderr()).isZero();
        }
    }

    @Test
    void namesCarryThePrefix() {
        assertThat(a.namespace()).isEqualTo("sieve-" + lab.prefix() + "-a");
        assertThat(a.hostInterface()).startsWith(lab.prefix()).hasSizeLessThan(16);
        assertThat(Lab.namespacesOf(lab.prefix())).contains(lab.nodeNamespace(), a.namespace(), b.namespace());
    }

    @Test
    void leftoversOfADeadJvmAreReaped() throws Exception {
        String stale = Lab.randomPrefix();
        Lab.claim(stale);
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        java.nio.file.Files.writeString(java.nio.file.Path.of("/run/sieve-lab", stale), Long.toString(dead.pid()));
        Shell.checked("ip", "netns", "add", "sieve-" + stale + "-node");
        assertThat(Lab.namespacesOf(stale)).hasSize(1);
        Lab.reapStale();
        assertThat(Lab.namespacesOf(stale)).isEmpty();
        assertThat(java.nio.file.Path.of("/run/sieve-lab", stale)).doesNotExist();
        assertThat(java.nio.file.Path.of("/run/sieve-lab", lab.prefix())).as("a live lab is kept").exists();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
