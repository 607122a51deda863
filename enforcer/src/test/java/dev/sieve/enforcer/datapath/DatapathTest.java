package dev.sieve.enforcer.datapath;

import static dev.sieve.enforcer.maps.Direction.EGRESS;
import static dev.sieve.enforcer.maps.Direction.INGRESS;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.ICMP;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.ICMPV6;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.TCP;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.UDP;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.allow;
import static dev.sieve.enforcer.policymap.PolicyMapEntry.deny;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.MetricsKey;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real packets through the real programs: two pods and an external host in a lab, the
 * datapath attached to both pods' host veths, verdicts checked by what gets through and by the
 * events read from the ring buffer.
 */
class DatapathTest {
    static final int ID_CLIENT = 1001;
    static final int ID_SERVER = 1002;
    static final int ID_CIDR = 16777217;
    static final int EP_CLIENT = 11;
    static final int EP_SERVER = 12;

    static Lab lab;
    static Datapath dp;
    static DatapathConfig config;
    static Pod client;
    static Pod server;
    static Pod world;
    static int serverIfindex;
    static int clientIfindex;
    static VerdictEventReader reader;
    static Thread poller;
    static volatile boolean polling = true;
    static final ConcurrentLinkedQueue<VerdictEvent> events = new ConcurrentLinkedQueue<>();
    static final List<BackgroundProcess> servers = new ArrayList<>();

    @BeforeAll
    static void setUp() {
        BpfAssumptions.assumeBpfUsable();
        lab = Lab.create();
        client = lab.addPod("client");
        server = lab.addPod("server");
        world = lab.addExternal("world");
        config = DatapathConfig.of("test-" + lab.prefix()).withNetns(NetNs.named(lab.nodeNamespace()));
        dp = BpfAssumptions.openOrSkip(config);
        dp.upsertIpcache(client.ipv4() + "/32", ID_CLIENT);
        dp.upsertIpcache(client.ipv6().orElseThrow() + "/128", ID_CLIENT);
        dp.upsertIpcache(server.ipv4() + "/32", ID_SERVER);
        dp.upsertIpcache(server.ipv6().orElseThrow() + "/128", ID_SERVER);
        dp.upsertIpcache(Lab.NODE_IPV4 + "/32", 1);
        assertThat(dp.interfaceFor(server.ipv4())).isEqualTo(server.hostInterface());
        assertThat(dp.interfaceFor(server.ipv6().orElseThrow())).isEqualTo(server.hostInterface());
        clientIfindex = dp.attach(dp.interfaceFor(client.ipv4()));
        serverIfindex = dp.attach(dp.interfaceFor(server.ipv4()));
        reader = dp.openEventReader(e -> events.add(e.toEvent()));
        poller = Thread.ofPlatform().daemon().name("verdict-events").start(() -> {
            while (polling) {
                reader.poll(50);
            }
        });
        for (String port : List.of("8080", "8081", "8101")) {
            servers.add(server.start("nc", "-lk", port));
        }
        servers.add(server.start("nc", "-6", "-lk", "9080"));
        servers.add(world.start("nc", "-lk", "80"));
        servers.add(client.start("nc", "-lk", "7070"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        polling = false;
        if (poller != null) {
            poller.join(2000);
        }
        if (reader != null) {
            reader.close();
        }
        servers.forEach(BackgroundProcess::close);
        if (dp != null) {
            dp.detach(client.hostInterface());
            dp.detach(server.hostInterface());
            assertThat(dp.attachedPrograms(server.hostInterface())).containsExactly(0, 0);
            dp.close();
        }
        if (config != null) {
            Datapath.unpinAll(config);
            assertThat(Files.exists(config.pinDir())).as("pinned maps removed").isFalse();
        }
        if (lab != null) {
            lab.close();
            assertThat(Lab.namespacesOf(lab.prefix())).isEmpty();
        }
    }

    @BeforeEach
    void reset() {
        dp.setAggregation(AggregationLevel.MEDIUM);
        dp.setLocalDelivery(LocalDelivery.STACK); // every test here through each side's own program; the e2e suites run the default (bpf)
        endpoint(client, EP_CLIENT, ID_CLIENT, false, false, false);
        endpoint(server, EP_SERVER, ID_SERVER, true, false, false);
        dp.applyPolicy(EP_CLIENT, List.of());
        dp.applyPolicy(EP_SERVER, List.of());
        dp.flushConntrack(0);
        events.clear();
    }

    static void endpoint(Pod pod, int ep, int identity, boolean ingress, boolean egress, boolean audit) {
        dp.setEndpoint(pod == client ? clientIfindex : serverIfindex, new EndpointConfig(ep, identity, ingress, egress, audit));
    }

    static boolean tcp(Pod from, String ip, int port) {
        ExecResult r = from.exec(Duration.ofSeconds(5), "nc", "-z", "-w", "1", ip, Integer.toString(port));
        return r.ok();
    }

    /** Waits for the server side to listen (nc starts asynchronously). */
    static boolean tcpEventually(Pod from, String ip, int port) {
        for (int i = 0; i < 10; i++) {
            if (tcp(from, ip, port)) {
                return true;
            }
            sleep(100);
        }
        return false;
    }

    static boolean udp(Pod from, Pod to, String ip, int port) {
        try (BackgroundProcess srv = to.start("nc", "-u", "-l", "-W", "1", Integer.toString(port))) {
            sleep(150);
            from.exec("sh", "-c", "echo hello | nc -u -w1 -q0 " + ip + " " + port);
            for (int i = 0; i < 10 && !srv.stdout().contains("hello"); i++) {
                sleep(50);
            }
            return srv.stdout().contains("hello");
        }
    }

    static boolean ping(Pod from, String ip) {
        return from.exec("ping", "-c1", "-W1", ip).ok();
    }

    static VerdictEvent awaitEvent(String what, Predicate<VerdictEvent> p) {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<VerdictEvent> e = events.stream().filter(p).findFirst();
            if (e.isPresent()) {
                return e.get();
            }
            sleep(20);
        }
        throw new AssertionError("no event " + what + " among " + events.size() + " events:\n"
                + String.join("\n", events.stream().map(VerdictEvent::toString).toList()));
    }

    static Predicate<VerdictEvent> at(Direction d, int verdict, int dport) {
        return e -> e.direction() == d && e.verdict() == verdict && e.dstPort() == dport;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------

    @Test
    void allowedTcpPortConnectsAndIsReportedForwarded() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        VerdictEvent e = awaitEvent("FORWARDED ingress :8080", at(INGRESS, VerdictEvent.FORWARDED, 8080).and(VerdictEvent::isNewConnection));
        assertThat(e.srcIdentity()).isEqualTo(ID_CLIENT);
        assertThat(e.dstIdentity()).isEqualTo(ID_SERVER);
        assertThat(e.ruleId()).isEqualTo(10);
        assertThat(e.endpointId()).isEqualTo(EP_SERVER);
        assertThat(e.source().getHostAddress()).isEqualTo(client.ipv4());
        assertThat(e.protocol()).isEqualTo(TCP);
        assertThat(e.tcpFlags() & 0x02).as("SYN").isNotZero();
        assertThat(e.ifindex()).isEqualTo(serverIfindex);
        // the reply was seen as a reply
        awaitEvent("reply SYN-ACK", ev -> ev.isReply() && ev.direction() == EGRESS && ev.srcPort() == 8080);
    }

    @Test
    void unlistedPortIsDroppedWithPolicyDenied() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        assertThat(tcp(client, server.ipv4(), 8081)).isFalse();
        VerdictEvent e = awaitEvent("DROPPED :8081", at(INGRESS, VerdictEvent.DROPPED, 8081));
        assertThat(e.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        assertThat(e.srcIdentity()).isEqualTo(ID_CLIENT);
        assertThat(e.dstIdentity()).isEqualTo(ID_SERVER);
        assertThat(e.ruleId()).isZero();
        assertThat(dp.metrics()).containsKey(new MetricsKey(VerdictEvent.DROPPED, INGRESS, VerdictEvent.POLICY_DENIED));
    }

    @Test
    void denyOverridesAllowAndNamesItsRule() {
        dp.applyPolicy(EP_SERVER, List.of(
                allow(INGRESS, 0, TCP, 0, 65535, 1),
                deny(INGRESS, ID_CLIENT, TCP, 8080, 8080, 2)));
        assertThat(tcpEventually(client, server.ipv4(), 8081)).isTrue();
        assertThat(tcp(client, server.ipv4(), 8080)).isFalse();
        VerdictEvent e = awaitEvent("DROPPED :8080", at(INGRESS, VerdictEvent.DROPPED, 8080));
        assertThat(e.dropReason()).isEqualTo(VerdictEvent.POLICY_DENY);
        assertThat(e.ruleId()).isEqualTo(2);
    }

    @Test
    void portRange() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8000, 8100, 3)));
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        assertThat(tcp(client, server.ipv4(), 8081)).isTrue();
        assertThat(tcp(client, server.ipv4(), 8101)).isFalse();
        awaitEvent("DROPPED :8101", at(INGRESS, VerdictEvent.DROPPED, 8101));
    }

    @Test
    void protocolAnyAllowsTcpUdpAndIcmp() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, 0, 0, 65535, 4)));
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        assertThat(udp(client, server, server.ipv4(), 5353)).isTrue();
        assertThat(ping(client, server.ipv4())).isTrue();
    }

    @Test
    void icmpEchoByType() {
        assertThat(ping(client, server.ipv4())).isFalse();
        VerdictEvent drop = awaitEvent("DROPPED ICMP", e -> e.protocol() == ICMP && e.verdict() == VerdictEvent.DROPPED);
        assertThat(drop.icmpType()).isEqualTo(8);
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, ICMP, 8, 8, 5), allow(INGRESS, ID_CLIENT, ICMPV6, 128, 128, 6)));
        assertThat(ping(client, server.ipv4())).isTrue();
        assertThat(ping(client, server.ipv6().orElseThrow())).isTrue();
        awaitEvent("FORWARDED ICMPv6", e -> e.protocol() == ICMPV6 && e.verdict() == VerdictEvent.FORWARDED && e.ruleId() == 6);
    }

    @Test
    void udpPort() {
        assertThat(udp(client, server, server.ipv4(), 5353)).isFalse();
        awaitEvent("DROPPED UDP", e -> e.protocol() == UDP && e.verdict() == VerdictEvent.DROPPED && e.dstPort() == 5353);
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, UDP, 5353, 5353, 7)));
        assertThat(udp(client, server, server.ipv4(), 5353)).isTrue();
    }

    @Test
    void ipv6Tcp() {
        String ip = server.ipv6().orElseThrow();
        assertThat(tcp(client, ip, 9080)).isFalse();
        VerdictEvent drop = awaitEvent("DROPPED v6", at(INGRESS, VerdictEvent.DROPPED, 9080));
        assertThat(drop.family()).isEqualTo(6);
        assertThat(drop.srcIdentity()).isEqualTo(ID_CLIENT);
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 9080, 9080, 8)));
        assertThat(tcpEventually(client, ip, 9080)).isTrue();
    }

    @Test
    void repliesPassWhileNewConnectionsFromTheServerAreDropped() {
        endpoint(server, EP_SERVER, ID_SERVER, true, true, false); // server may not open anything
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        assertThat(tcpEventually(client, server.ipv4(), 8080)).as("replies of an allowed connection pass egress").isTrue();
        assertThat(tcp(server, client.ipv4(), 7070)).as("server-initiated connection").isFalse();
        VerdictEvent e = awaitEvent("DROPPED egress :7070", at(EGRESS, VerdictEvent.DROPPED, 7070));
        assertThat(e.srcIdentity()).isEqualTo(ID_SERVER);
        assertThat(e.dstIdentity()).isEqualTo(ID_CLIENT);
    }

    @Test
    void auditModeReportsButPasses() {
        endpoint(server, EP_SERVER, ID_SERVER, true, false, true);
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        VerdictEvent e = awaitEvent("AUDIT :8080", at(INGRESS, VerdictEvent.AUDIT, 8080));
        assertThat(e.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);
        assertThat(e.flags() & VerdictEvent.FLAG_AUDIT).isNotZero();
    }

    @Test
    void policyChangeBlocksNewConnectionsAtOnce() throws Exception {
        // its own server: the connection held open below is cut mid-stream and would wedge a shared one
        try (BackgroundProcess srv = server.start("nc", "-lk", "8088")) {
            dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8088, 8088, 10)));
            assertThat(tcpEventually(client, server.ipv4(), 8088)).as(srv.stderr()).isTrue();
            try (BackgroundProcess open = client.start("sh", "-c", "sleep 5 | nc " + server.ipv4() + " 8088")) {
                awaitEvent("long connection", at(INGRESS, VerdictEvent.FORWARDED, 8088).and(e -> e.isNewConnection()));
                assertThat(dp.conntrackEntries(EP_SERVER)).isPositive();
                assertThat(open.isAlive()).as("connection held open").isTrue();
                dp.applyPolicy(EP_SERVER, List.of());
                assertThat(tcp(client, server.ipv4(), 8088)).as("new connection after the allow was removed").isFalse();
                awaitEvent("DROPPED after change", at(INGRESS, VerdictEvent.DROPPED, 8088));
            }
        }
    }

    @Test
    void worldAndCidrIdentities() {
        endpoint(client, EP_CLIENT, ID_CLIENT, false, true, false);
        assertThat(tcp(client, world.ipv4(), 80)).isFalse();
        VerdictEvent e = awaitEvent("DROPPED to world", at(EGRESS, VerdictEvent.DROPPED, 80));
        assertThat(e.dstIdentity()).isEqualTo(2);
        dp.applyPolicy(EP_CLIENT, List.of(allow(EGRESS, 2, TCP, 80, 80, 20)));
        assertThat(tcpEventually(client, world.ipv4(), 80)).isTrue();
        // a CIDR identity for the world range takes over from "world"
        dp.upsertIpcache("198.51.100.0/24", ID_CIDR);
        try {
            assertThat(tcp(client, world.ipv4(), 80)).isFalse();
            dp.applyPolicy(EP_CLIENT, List.of(allow(EGRESS, ID_CIDR, TCP, 80, 80, 21)));
            assertThat(tcp(client, world.ipv4(), 80)).isTrue();
            awaitEvent("FORWARDED to CIDR identity", e2 -> e2.dstIdentity() == ID_CIDR && e2.ruleId() == 21);
        } finally {
            dp.deleteIpcache("198.51.100.0/24");
        }
    }

    @Test
    void aggregationNoneReportsEveryPacketMaxOnlyOpenAndClose() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        dp.flushConntrack(0);
        dp.setAggregation(AggregationLevel.MAX);
        sleep(100);
        events.clear();
        assertThat(tcp(client, server.ipv4(), 8080)).isTrue();
        sleep(300);
        long maxEvents = events.stream().filter(e -> e.endpointId() == EP_SERVER).count();
        dp.flushConntrack(0);
        dp.setAggregation(AggregationLevel.NONE);
        sleep(100);
        events.clear();
        assertThat(tcp(client, server.ipv4(), 8080)).isTrue();
        sleep(300);
        long noneEvents = events.stream().filter(e -> e.endpointId() == EP_SERVER).count();
        assertThat(maxEvents).isBetween(1L, 4L);
        assertThat(noneEvents).isGreaterThan(maxEvents).isGreaterThanOrEqualTo(5);
    }

    @Test
    void mapsArePinnedAndReusedByASecondLoad() {
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        assertThat(Files.exists(config.pinDir().resolve("sieve_policy"))).isTrue();
        try (Datapath second = Datapath.open(config)) {
            assertThat(second.policyKeys(EP_SERVER)).isEqualTo(dp.policyKeys(EP_SERVER)).isNotEmpty();
            assertThat(second.ipcache()).hasSize(dp.ipcache().size());
        }
    }

    /**
     * Pod to pod on this node: with BPF delivery the sender's program judges the receiver's
     * ingress too and hands the packet to the receiver's namespace, so the node forwards nothing;
     * with STACK delivery the node routes it and the receiver's own program judges it. Either way
     * the packet arrives one hop older, replies pass, the receiver's ingress deny holds and the
     * ingress verdict names the receiver's interface.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void podToPodDeliveryBypassesTheHostStackOnlyInBpfMode() {
        withAddresses(); // as the agent sets endpoints: bpf delivery finds the receiver by its address
        for (LocalDelivery mode : LocalDelivery.values()) {
            dp.setLocalDelivery(mode);
            dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10),
                    allow(INGRESS, ID_CLIENT, ICMP, 8, 8, 11), allow(INGRESS, ID_CLIENT, ICMPV6, 128, 128, 12)));
            dp.flushConntrack(0);
            events.clear();
            long forwardedV4 = nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams");
            long forwardedV6 = nodeCounter("/proc/net/snmp6", null, "Ip6OutForwDatagrams");

            assertThat(tcpEventually(client, server.ipv4(), 8080)).as(mode + ": allowed TCP").isTrue();
            ExecResult v4 = client.exec("ping", "-c1", "-W1", server.ipv4());
            ExecResult v6 = client.exec("ping", "-6", "-c1", "-W1", server.ipv6().orElseThrow());
            assertThat(v4.ok()).as(mode + ": ping").isTrue();
            assertThat(v4.stdout()).as(mode + ": one hop").contains("ttl=63");
            assertThat(v6.ok()).as(mode + ": ping -6").isTrue();
            assertThat(v6.stdout()).as(mode + ": one hop (IPv6)").contains("ttl=63");
            assertThat(tcp(client, server.ipv4(), 8081)).as(mode + ": port without an allow").isFalse();

            VerdictEvent in = awaitEvent(mode + " FORWARDED ingress :8080", at(INGRESS, VerdictEvent.FORWARDED, 8080));
            assertThat(in.ifindex()).isEqualTo(serverIfindex);
            assertThat(in.endpointId()).isEqualTo(EP_SERVER);
            VerdictEvent out = awaitEvent(mode + " FORWARDED egress :8080", at(EGRESS, VerdictEvent.FORWARDED, 8080));
            assertThat(out.ifindex()).isEqualTo(clientIfindex);
            VerdictEvent denied = awaitEvent(mode + " DROPPED ingress :8081", at(INGRESS, VerdictEvent.DROPPED, 8081));
            assertThat(denied.ifindex()).isEqualTo(serverIfindex);
            assertThat(denied.dropReason()).isEqualTo(VerdictEvent.POLICY_DENIED);

            long v4Forwarded = nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams") - forwardedV4;
            long v6Forwarded = nodeCounter("/proc/net/snmp6", null, "Ip6OutForwDatagrams") - forwardedV6;
            if (mode == LocalDelivery.BPF) {
                assertThat(v4Forwarded).as("IPv4 packets the node forwarded").isZero();
                assertThat(v6Forwarded).as("IPv6 packets the node forwarded").isZero();
            } else {
                assertThat(v4Forwarded).as("IPv4 packets the node forwarded").isPositive();
                assertThat(v6Forwarded).as("IPv6 packets the node forwarded").isPositive();
            }
        }
    }

    static void withAddresses() {
        dp.setEndpoint(clientIfindex, new EndpointConfig(EP_CLIENT, ID_CLIENT, false, false, false,
                List.of(client.ipv4(), client.ipv6().orElseThrow())));
        dp.setEndpoint(serverIfindex, new EndpointConfig(EP_SERVER, ID_SERVER, true, false, false,
                List.of(server.ipv4(), server.ipv6().orElseThrow())));
    }

    static byte[] podMac(Pod pod) {
        return mac(pod.exec("cat", "/sys/class/net/eth0/address").orThrow("pod MAC").stdout());
    }

    static byte[] mac(String text) {
        String[] hex = text.strip().split(":");
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) mac[i] = (byte) Integer.parseInt(hex[i], 16);
        return mac;
    }

    /**
     * bpf delivery's receiver lookup (sieve_lxc): the agent writes each endpoint's addresses with its host veth,
     * the veth's MAC and the pod's MAC from the node's neighbour table; an entry whose pod MAC is not known yet is
     * not used (the node forwards) until the pod's own packets fill it in; the endpoint's removal removes it.
     */
    @Test
    @org.junit.jupiter.api.Timeout(60)
    void theReceiverIsFoundByItsAddressAndItsMacLearnedFromItsPackets() throws Exception {
        dp.setLocalDelivery(LocalDelivery.BPF);
        withAddresses();
        dp.applyPolicy(EP_SERVER, List.of(allow(INGRESS, ID_CLIENT, TCP, 8080, 8080, 10)));
        java.net.InetAddress serverV4 = java.net.InetAddress.getByName(server.ipv4());
        java.net.InetAddress serverV6 = java.net.InetAddress.getByName(server.ipv6().orElseThrow());
        byte[] serverMac = podMac(server);
        byte[] hostMac = mac(lab.execNode("cat", "/sys/class/net/" + server.hostInterface() + "/address").orThrow("host veth MAC").stdout());
        for (java.net.InetAddress a : List.of(serverV4, serverV6)) {
            Datapath.LocalEndpoint e = dp.localEndpoint(a).orElseThrow(() -> new AssertionError("no sieve_lxc entry for " + a));
            assertThat(e.ifindex()).isEqualTo(serverIfindex);
            assertThat(e.mac()).as("the pod's MAC, from the node's neighbour table").isEqualTo(serverMac);
            assertThat(e.nodeMac()).as("the host veth's MAC").isEqualTo(hostMac);
        }

        // the pod's MAC unknown: the node's stack delivers the first packet; the server's answer teaches it
        dp.writeLocalEndpoint(serverV4, new Datapath.LocalEndpoint(serverIfindex, null, hostMac));
        long forwarded = nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams");
        assertThat(tcpEventually(client, server.ipv4(), 8080)).isTrue();
        assertThat(nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams") - forwarded).as("forwarded by the node").isPositive();
        assertThat(dp.localEndpoint(serverV4).orElseThrow().mac()).as("learned from the server's packets").isEqualTo(serverMac);
        forwarded = nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams");
        assertThat(tcp(client, server.ipv4(), 8080)).isTrue();
        assertThat(tcp(client, server.ipv4(), 8081)).as("the receiver's ingress still judged").isFalse();
        assertThat(nodeCounter("/proc/net/snmp", "Ip:", "ForwDatagrams") - forwarded).as("forwarded by the node once learned").isZero();

        // a pod cannot write another's entry: packets from the client leave the server's entry alone
        assertThat(dp.localEndpoint(java.net.InetAddress.getByName(client.ipv4())).orElseThrow().ifindex()).isEqualTo(clientIfindex);

        dp.setEndpoint(serverIfindex, new EndpointConfig(EP_SERVER, ID_SERVER, true, false, false, List.of(server.ipv4())));
        assertThat(dp.localEndpoint(serverV6)).as("an address the endpoint no longer has").isEmpty();
        dp.removeEndpoint(serverIfindex);
        assertThat(dp.localEndpoint(serverV4)).as("a removed endpoint's address").isEmpty();
        endpoint(server, EP_SERVER, ID_SERVER, true, false, false);
    }

    /** A counter of the node namespace's /proc/net/snmp (header line + value line) or snmp6 (name value). */
    static long nodeCounter(String file, String table, String name) {
        List<String> lines = lab.execNode("cat", file).orThrow("read " + file).stdout().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (table == null && f.length == 2 && f[0].equals(name)) return Long.parseLong(f[1]);
            if (table != null && f[0].equals(table) && i + 1 < lines.size() && lines.get(i + 1).startsWith(table)) {
                int col = List.of(f).indexOf(name);
                if (col > 0) return Long.parseLong(lines.get(i + 1).trim().split("\\s+")[col]);
            }
        }
        throw new AssertionError("no " + name + " in " + file);
    }
}
