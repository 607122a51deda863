package dev.sieve.enforcer.datapath;

import static dev.sieve.enforcer.maps.Direction.EGRESS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.PinnedMap;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.maps.MapLayouts;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.Lab;
import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Conntrack keyed by the canonical tuple: a connection and its replies meet in one entry
 * whichever side's address sorts first; a tuple seen in an impossible direction is judged
 * without the entry; an entry idle longer than its lifetime is forgotten, and one in use is
 * refreshed; and an entry of the previous map layout (keyed by the first packet's tuple),
 * found pinned, is carried over at load so an upgrade keeps established connections. Runs the
 * real programs with BPF_PROG_TEST_RUN for one endpoint on the loopback's ifindex that enforces
 * both directions and allows only egress TCP 80.
 */
@Timeout(60)
class ConntrackTest {
    static final byte[] LOW = {10, 0, 0, 1};
    static final byte[] PEER = {10, 0, 0, 2};
    static final byte[] HIGH = {10, 0, 0, 9};
    static final int SYN = 0x02;
    static final int ACK = 0x10;

    DatapathConfig config;
    Datapath dp;
    VerdictEventReader reader;
    final List<VerdictEvent> events = new ArrayList<>();

    @BeforeEach
    void setUp() {
        BpfAssumptions.assumeBpfUsable();
        config = DatapathConfig.of("ct-" + Lab.claimRandomPrefix()).withRingBufferBytes(1 << 16);
    }

    void open() {
        dp = BpfAssumptions.openOrSkip(config);
        dp.setEndpoint(1, new EndpointConfig(3, 1003, true, true, false));
        dp.upsertIpcache("10.0.0.2/32", 2002);
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 2002, PolicyMapEntry.TCP, 80, 80, 12)));
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
    }

    @AfterEach
    void tearDown() {
        BpfAssumptions.closeAll(reader, dp, config);
    }

    int fromPod(byte[] packet) {
        return ProgramTestRun.run(dp.programFd(Datapath.PROG_FROM_POD), packet, null, 1).retval();
    }

    int toPod(byte[] packet) {
        return ProgramTestRun.run(dp.programFd(Datapath.PROG_TO_POD), packet, null, 1).retval();
    }

    VerdictEvent lastEvent() {
        events.clear();
        reader.drain();
        assertThat(events).isNotEmpty();
        return events.getLast();
    }

    @Test
    void repliesFindTheirConnectionWhicheverSideSortsFirst() {
        open();
        for (byte[] pod : List.of(LOW, HIGH)) { // 10.0.0.1 sorts before the peer, 10.0.0.9 after it
            assertThat(fromPod(Packets.tcp4(pod, PEER, 40000, 80, SYN))).as("SYN allowed").isZero();
            assertThat(toPod(Packets.tcp4(PEER, pod, 80, 40000, SYN | ACK))).as("SYN-ACK is a reply").isZero();
            VerdictEvent reply = lastEvent();
            assertThat(reply.isReply()).isTrue();
            assertThat(reply.ruleId()).isEqualTo(12);
            assertThat(fromPod(Packets.tcp4(pod, PEER, 40000, 80, ACK))).as("established").isZero();
            assertThat(toPod(Packets.tcp4(PEER, pod, 80, 40001, SYN | ACK))).as("no such connection").isEqualTo(2);
        }
        assertThat(dp.conntrackEntries(3)).as("one entry per connection").isEqualTo(2);
    }

    @Test
    void theOpenersTupleInTheOtherDirectionIsJudgedWithoutTheEntry() {
        open();
        byte[] syn = Packets.tcp4(LOW, PEER, 40002, 80, SYN);
        assertThat(fromPod(syn)).isZero();
        // the same tuple arriving at the pod (a spoofed source): not a reply; ingress allows nothing
        assertThat(toPod(Packets.tcp4(LOW, PEER, 40002, 80, ACK))).isEqualTo(2);
        assertThat(lastEvent().dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        // and the real connection is untouched
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40002, SYN | ACK))).isZero();
        assertThat(lastEvent().isReply()).isTrue();
    }

    @Test
    void aPinnedConntrackOfThePreviousLayoutIsCarriedOver() throws Exception {
        // The previous version's map: sieve_ct, keyed (saddr, daddr, sport, dport, endpoint, proto,
        // family) in the direction of the first packet. One connection opened by the pod from
        // 10.0.0.9:40003 to 10.0.0.2:80 (its tuple sorts the other way round), rule 12, revision 1.
        Path dir = config.pinDir();
        Files.createDirectories(dir);
        Path v1 = dir.resolve(ConntrackMigration.CT_V1);
        bpftool("map", "create", v1.toString(), "type", "lru_hash", "key", "48", "value", "40", "entries", "65536",
                "name", "sieve_ct");
        byte[] key = new byte[48];
        System.arraycopy(HIGH, 0, key, 0, 4);
        System.arraycopy(PEER, 0, key, 16, 4);
        le16(key, 32, 40003);
        le16(key, 34, 80);
        key[36] = 3; // endpoint id 3
        key[40] = 6; // TCP
        key[41] = 4; // IPv4
        byte[] value = new byte[40];
        long now = System.nanoTime(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
        le64(value, 0, now);
        le64(value, 8, now);
        value[16] = 12; // rule id
        value[20] = 1; // policy revision
        le16(value, 26, 80); // policy port
        value[28] = 1; // ALLOW
        value[29] = 2; // direction EGRESS
        value[30] = SYN; // flags seen, original direction
        List<String> update = new ArrayList<>(List.of("map", "update", "pinned", v1.toString(), "key", "hex"));
        update.addAll(hex(key));
        update.add("value");
        update.add("hex");
        update.addAll(hex(value));
        bpftool(update.toArray(String[]::new));

        open(); // setEndpoint writes revision 0, applyPolicy bumps it to 1: the entry's verdict stands
        assertThat(Files.exists(v1)).as("retired pin removed").isFalse();
        assertThat(dp.conntrackEntries(3)).isEqualTo(1);
        assertThat(toPod(Packets.tcp4(PEER, HIGH, 80, 40003, SYN | ACK))).as("reply of the carried connection").isZero();
        VerdictEvent reply = lastEvent();
        assertThat(reply.isReply()).isTrue();
        assertThat(reply.ruleId()).isEqualTo(12);
        assertThat(fromPod(Packets.tcp4(HIGH, PEER, 40003, 80, ACK))).isZero();
    }

    static void le16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >> 8);
    }

    static void le64(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >> (8 * i));
        }
    }

    @Test
    void anEntryIdleLongerThanItsLifetimeIsForgotten() throws Exception {
        open();
        establish(40004);
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40004, ACK))).as("the peer's packet is a reply").isZero();
        // idle for 7 h (TCP lifetime 6 h), and not refreshed lately
        age(7L * 3600 * 1_000_000_000L);
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40004, ACK)))
                .as("expired: the peer's packet is a new connection, which ingress policy denies").isEqualTo(2);
        assertThat(lastEvent().dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
    }

    @Test
    void aSynNeverAnsweredIsForgottenAfterAMinute() throws Exception {
        open();
        assertThat(fromPod(Packets.tcp4(LOW, PEER, 40006, 80, SYN))).isZero();
        // unanswered for 61 s (Cilium's bpf-ct-timeout-regular-tcp-syn: 60 s), not 6 h (F10)
        age(61L * 1_000_000_000L);
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40006, SYN | ACK)))
                .as("expired: the late answer is a new connection, which ingress policy denies").isEqualTo(2);
        assertThat(lastEvent().dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
    }

    @Test
    void anAnsweredConnectionOutlivesTheSynLifetime() throws Exception {
        open();
        establish(40007);
        age(61L * 1_000_000_000L);
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40007, ACK))).as("still a reply after 61 s").isZero();
    }

    @Test
    void lastSeenIsRefreshedWhileTheConnectionIsUsed() throws Exception {
        open();
        establish(40005);
        age(2_000_000_000L); // last seen 2 s ago, the refresh due: no sleep needed
        long before = ctLong("last_seen_ns");
        assertThat(fromPod(Packets.tcp4(LOW, PEER, 40005, 80, ACK))).isZero();
        assertThat(ctLong("last_seen_ns") - before).as("last_seen advanced").isGreaterThan(1_000_000_000L);
        // idle for 5 h, under the TCP lifetime: still established, in both directions
        age(5L * 3600 * 1_000_000_000L);
        assertThat(fromPod(Packets.tcp4(LOW, PEER, 40005, 80, ACK))).isZero();
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, 40005, ACK))).as("still a reply").isZero();
    }

    /** SYN, SYN-ACK, ACK of a connection from LOW:port to PEER:80; the ACK changes nothing more. */
    void establish(int port) {
        assertThat(fromPod(Packets.tcp4(LOW, PEER, port, 80, SYN))).isZero();
        assertThat(toPod(Packets.tcp4(PEER, LOW, 80, port, SYN | ACK))).isZero();
        assertThat(fromPod(Packets.tcp4(LOW, PEER, port, 80, ACK))).isZero();
    }

    Path conntrackPin() {
        return config.pinDir().resolve("sieve_ct_v2");
    }

    /** A field of the only conntrack entry. */
    long ctLong(String field) {
        long off = MapLayouts.CT_VALUE.byteOffset(MemoryLayout.PathElement.groupElement(field));
        long[] out = new long[1];
        int[] n = {0};
        try (PinnedMap ct = PinnedMap.open(conntrackPin())) {
            ct.forEach((int) MapLayouts.CT_KEY.byteSize(), (int) MapLayouts.CT_VALUE.byteSize(), (k, v) -> {
                out[0] = v.get(ValueLayout.JAVA_LONG_UNALIGNED, off);
                n[0]++;
            });
        }
        assertThat(n[0]).as("conntrack entries").isEqualTo(1);
        return out[0];
    }

    /**
     * Makes the only conntrack entry look idle for {@code idleNs}: last_seen moved back by that much
     * (from the clock the programs read, CLOCK_MONOTONIC), and a refresh due unless the entry was
     * refreshed after this call.
     */
    void age(long idleNs) throws Exception {
        long seen = MapLayouts.CT_VALUE.byteOffset(MemoryLayout.PathElement.groupElement("last_seen_ns"));
        long tick = MapLayouts.CT_VALUE.byteOffset(MemoryLayout.PathElement.groupElement("refreshed_jiffies"));
        List<byte[][]> entries = new ArrayList<>();
        try (PinnedMap ct = PinnedMap.open(conntrackPin())) {
            ct.forEach((int) MapLayouts.CT_KEY.byteSize(), (int) MapLayouts.CT_VALUE.byteSize(), (k, v) -> {
                v.set(ValueLayout.JAVA_LONG_UNALIGNED, seen, System.nanoTime() - idleNs);
                v.set(ValueLayout.JAVA_INT_UNALIGNED, tick, v.get(ValueLayout.JAVA_INT_UNALIGNED, tick) - 1_000);
                entries.add(new byte[][] {k.toArray(ValueLayout.JAVA_BYTE), v.toArray(ValueLayout.JAVA_BYTE)});
            });
        }
        assertThat(entries).hasSize(1);
        List<String> update = new ArrayList<>(List.of("map", "update", "pinned", conntrackPin().toString(), "key", "hex"));
        update.addAll(hex(entries.getFirst()[0]));
        update.add("value");
        update.add("hex");
        update.addAll(hex(entries.getFirst()[1]));
        bpftool(update.toArray(String[]::new));
    }

    static List<String> hex(byte[] b) {
        List<String> out = new ArrayList<>();
        for (byte x : b) {
            out.add(HexFormat.of().toHexDigits(x));
        }
        return out;
    }

    static void bpftool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bpftool"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("bpftool " + String.join(" ", args) + ": " + out).isZero();
    }
}
