package dev.sieve.enforcer.datapath;

import static dev.sieve.enforcer.maps.Direction.EGRESS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.libbpf.ProgramTestRun;
import dev.sieve.enforcer.policymap.PolicyMapEntry;
import dev.sieve.lab.Lab;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Verdicts for traffic the lab's tools cannot make (SCTP, IPv6 extension headers, other IP
 * protocols, L7 redirect), run through the real program with BPF_PROG_TEST_RUN on an endpoint
 * configured for the loopback's ifindex.
 */
class ProgramVerdictTest {
    static final byte[] SRC4 = {10, 0, 0, 1};
    static final byte[] DST4 = {10, 0, 0, 2};
    static final byte[] SRC6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static final byte[] DST6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    static DatapathConfig config;
    static Datapath dp;
    static VerdictEventReader reader;
    static final List<VerdictEvent> events = new ArrayList<>();
    static int fromPod;

    @BeforeAll
    static void setUp() {
        BpfAssumptions.assumeBpfUsable();
        config = DatapathConfig.of("verdict-" + Lab.claimRandomPrefix()).withRingBufferBytes(1 << 16);
        dp = BpfAssumptions.openOrSkip(config);
        dp.setEndpoint(1, new EndpointConfig(3, 1003, true, true, false));
        dp.upsertIpcache("10.0.0.2/32", 2002);
        fromPod = dp.programFd(Datapath.PROG_FROM_POD);
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
    }

    @AfterAll
    static void tearDown() {
        BpfAssumptions.closeAll(reader, dp, config);
    }

    @BeforeEach
    void clear() {
        dp.flushConntrack(0);
        reader.drain();
        events.clear();
    }

    static VerdictEvent send(byte[] packet, int expectedTcAction) {
        assertThat(ProgramTestRun.run(fromPod, packet, null, 1).retval()).as("tc action").isEqualTo(expectedTcAction);
        reader.drain();
        assertThat(events).isNotEmpty();
        return events.removeLast();
    }

    @Test
    void sctpByPort() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 2002, PolicyMapEntry.SCTP, 5000, 5000, 31)));
        VerdictEvent ok = send(Packets.ipv4(SRC4, DST4, 132, Packets.ports(40000, 5000)), 0);
        assertThat(ok.verdict()).isEqualTo(VerdictEvent.FORWARDED);
        assertThat(ok.ruleId()).isEqualTo(31);
        assertThat(ok.protocol()).isEqualTo(132);
        VerdictEvent drop = send(Packets.ipv4(SRC4, DST4, 132, Packets.ports(40001, 5001)), 2);
        assertThat(drop.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        assertThat(drop.dstIdentity()).isEqualTo(2002);
    }

    @Test
    void redirectIsReportedWithItsProxyPortAndFailsClosedWithoutAProxy() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.redirect(EGRESS, 0, PolicyMapEntry.TCP, 80, 80, 15001, 7)));
        // nothing listens on the proxy port in this namespace: the redirected packet is dropped
        VerdictEvent drop = send(Packets.tcp4(SRC4, DST4, 40002, 80, 0x02), 2);
        assertThat(drop.verdict()).isEqualTo(VerdictEvent.DROPPED);
        assertThat(drop.dropReason()).as("SOCKET_LOOKUP_FAILED").isEqualTo(178);
        assertThat(drop.proxyPort()).isEqualTo(15001);
        VerdictEvent e = events.removeLast();
        assertThat(e.verdict()).isEqualTo(VerdictEvent.REDIRECTED);
        assertThat(e.proxyPort()).isEqualTo(15001);
        assertThat(e.ruleId()).isEqualTo(7);
    }

    @Test
    void ipv6BehindAHopByHopHeader() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 0, PolicyMapEntry.UDP, 53, 53, 8)));
        VerdictEvent ok = send(Packets.ipv6(SRC6, DST6, 17, true, Packets.ports(40003, 53)), 0);
        assertThat(ok.family()).isEqualTo(6);
        assertThat(ok.dstPort()).isEqualTo(53);
        assertThat(ok.dstIdentity()).as("unknown v6 address is world").isEqualTo(2);
        send(Packets.ipv6(SRC6, DST6, 17, true, Packets.ports(40004, 54)), 2);
    }

    /** An IPv4 packet turned into a fragment: identification {@code id}, offset in 8-byte units, more fragments. */
    static byte[] fragment(byte[] packet, int id, int offsetUnits, boolean more) {
        packet[14 + 4] = (byte) (id >> 8);
        packet[14 + 5] = (byte) id;
        int v = (more ? 0x2000 : 0) | offsetUnits;
        packet[14 + 6] = (byte) (v >> 8);
        packet[14 + 7] = (byte) v;
        return packet;
    }

    @Test
    void ipv4LaterFragmentsAreJudgedWithTheirFirstFragmentsPorts() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 0, PolicyMapEntry.UDP, 53, 53, 9)));
        VerdictEvent first = send(fragment(Packets.ipv4(SRC4, DST4, 17, Packets.ports(40010, 53)), 0x4242, 0, true), 0);
        assertThat(first.dstPort()).isEqualTo(53);
        assertThat(ProgramTestRun.run(fromPod, fragment(Packets.ipv4(SRC4, DST4, 17, new byte[8]), 0x4242, 185, false), null, 1).retval())
                .as("the later fragment of an allowed datagram passes (F22)").isZero();
        VerdictEvent orphan = send(fragment(Packets.ipv4(SRC4, DST4, 17, new byte[8]), 0x4343, 185, false), 2);
        assertThat(orphan.dstPort()).as("no first fragment seen: port 0").isZero();
        assertThat(orphan.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
    }

    @Test
    void ipv6FragmentsAndExtensionHeaderChains() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 0, PolicyMapEntry.UDP, 53, 53, 8)));
        byte[] dns = Packets.ports(40006, 53);
        VerdictEvent first = send(Packets.ipv6(SRC6, DST6, 17, dns, Packets.HOP_BY_HOP, Packets.FIRST_FRAGMENT), 0);
        assertThat(first.dstPort()).as("the first fragment carries the ports").isEqualTo(53);
        assertThat(ProgramTestRun.run(fromPod, Packets.ipv6(SRC6, DST6, 17, new byte[8], Packets.LATER_FRAGMENT), null, 1).retval())
                .as("a later fragment of that datagram: the first's ports, its connection (F22)").isZero();
        byte[] orphan = Packets.ipv6(SRC6, DST6, 17, new byte[8], Packets.LATER_FRAGMENT);
        orphan[14 + 40 + 7] = 0x35; // another identification: its first fragment was never seen
        VerdictEvent later = send(orphan, 2);
        assertThat(later.protocol()).isEqualTo(17);
        assertThat(later.dstPort()).as("a later fragment without its first: judged with port 0").isZero();
        assertThat(later.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        VerdictEvent four = send(Packets.ipv6(SRC6, DST6, 17, Packets.ports(40007, 53), Packets.HOP_BY_HOP,
                Packets.DEST_OPTS, Packets.DEST_OPTS, Packets.DEST_OPTS), 0);
        assertThat(four.dstPort()).as("four extension headers are walked").isEqualTo(53);
        VerdictEvent five = send(Packets.ipv6(SRC6, DST6, 17, Packets.ports(40008, 53), Packets.HOP_BY_HOP,
                Packets.DEST_OPTS, Packets.DEST_OPTS, Packets.DEST_OPTS, Packets.DEST_OPTS), 2);
        assertThat(five.dropReason()).as("a fifth is not: INVALID_IPV6_EXTHDR").isEqualTo(156);
    }

    @Test
    void otherIpProtocolsMatchProtocolWideEntries() {
        byte[] gre = Packets.ipv4(SRC4, DST4, 47, new byte[8]);
        assertThat(send(gre, 2).dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 2002, 47, 0, 65535, 9)));
        assertThat(send(gre, 0).ruleId()).isEqualTo(9);
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 2002, 47, 0, 65535, 9),
                PolicyMapEntry.deny(EGRESS, 0, 0, 0, 65535, 10)));
        assertThat(send(gre, 2).dropReason()).isEqualTo(VerdictEvent.POLICY_DENY);
    }

    @Test
    void establishedFlowIsRecheckedAfterPolicyChange() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 0, PolicyMapEntry.UDP, 53, 53, 8)));
        byte[] dns = Packets.ipv4(SRC4, DST4, 17, Packets.ports(40005, 53));
        send(dns, 0);
        assertThat(ProgramTestRun.run(fromPod, dns, null, 1).retval()).as("established").isZero();
        dp.applyPolicy(3, List.of());
        VerdictEvent e = send(dns, 2);
        assertThat(e.flags() & VerdictEvent.FLAG_RECHECK).isNotZero();
    }

    @Test
    void icmpErrorsOfATrackedConnectionPassLikeReplies() {
        dp.applyPolicy(3, List.of(PolicyMapEntry.allow(EGRESS, 2002, PolicyMapEntry.TCP, 80, 80, 12)));
        send(Packets.tcp4(SRC4, DST4, 40010, 80, 0x02), 0); // the pod opens a connection
        // the pod reports "fragmentation needed" about a packet of that connection it received
        VerdictEvent related = send(icmpError(DST4, SRC4, 80, 40010), 0);
        assertThat(related.verdict()).isEqualTo(VerdictEvent.FORWARDED);
        assertThat(related.isReply()).isTrue();
        // the same error about a connection nobody opened is judged by policy: no ICMP allowed
        VerdictEvent unrelated = send(icmpError(DST4, SRC4, 80, 40011), 2);
        assertThat(unrelated.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        assertThat(unrelated.icmpType()).isEqualTo(3);
    }

    /** ICMP destination unreachable / fragmentation needed from SRC4 to DST4, quoting a TCP packet. */
    static byte[] icmpError(byte[] quotedSrc, byte[] quotedDst, int quotedSport, int quotedDport) {
        byte[] quoted = Packets.tcp4(quotedSrc, quotedDst, quotedSport, quotedDport, 0x10);
        byte[] l4 = new byte[8 + 28];
        l4[0] = 3;
        l4[1] = 4;
        l4[6] = 0x05;
        l4[7] = (byte) 0xdc;
        System.arraycopy(quoted, 14, l4, 8, 28);
        return Packets.ipv4(SRC4, DST4, 1, l4);
    }
}
