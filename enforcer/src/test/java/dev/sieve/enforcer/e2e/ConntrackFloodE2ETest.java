package dev.sieve.enforcer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.datapath.BpfAssumptions;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.MapSizes;
import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.ManifestLab;
import dev.sieve.lab.Pod;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * F10: a SYN flood from one pod does not break another pod's established connection. Pod {@code c} holds an idle
 * connection to {@code s}; {@code c}'s ingress is default-deny, so once its conntrack entry is gone, the server's
 * next packet to it is a "new connection" and dropped. Pod {@code x} sends 200,000 SYNs (raw socket, its own
 * address, spoofed source and destination ports: 200k distinct tuples, two conntrack entries each) to listening
 * ports of {@code s}, whose ingress admits them and whose stack answers them (SYN cookies). Then {@code s} pushes a
 * line on the idle connection: with the default table (524,288) it arrives. With the former 65,536-entry table
 * ({@code -Dsieve.flood.ctMax=65536}) the flood evicts the connection's entry and the push is dropped (measured:
 * c's entries 1 -> 0, the push's retransmissions dropped as POLICY_DENIED).
 *
 * <p>SYNs nobody answers evict nothing here: the kernel's LRU map evicts entries never looked up again first, and
 * a one-shot SYN's entry is one. Answered SYNs (the SYN-ACK looks the entry up) compete with real connections.
 */
class ConntrackFloodE2ETest {
    static final String NODE = "node-1";
    static final int SYNS = Integer.getInteger("sieve.flood.syns", 200_000);
    static final int CT_MAX = Integer.getInteger("sieve.flood.ctMax", MapSizes.DEFAULT.conntrack());
    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: fl}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: x, namespace: fl, labels: {app: x}}
            status: {podIP: 10.247.0.11, podIPs: [{ip: 10.247.0.11}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: s, namespace: fl, labels: {app: s}}
            status: {podIP: 10.247.0.12, podIPs: [{ip: 10.247.0.12}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: c, namespace: fl, labels: {app: c}}
            status: {podIP: 10.247.0.13, podIPs: [{ip: 10.247.0.13}]}
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: server, namespace: fl}
            spec:
              endpointSelector: {matchLabels: {app: s}}
              ingress:
                - fromEndpoints: [{matchLabels: {app: x}}]
                - fromEndpoints: [{matchLabels: {app: c}}]
                  toPorts: [{ports: [{port: "7000", protocol: TCP}]}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: client, namespace: fl}
            spec:
              endpointSelector: {matchLabels: {app: c}}
              ingress:
                - fromEndpoints: [{matchLabels: {app: x}}]
                  toPorts: [{ports: [{port: "9", protocol: TCP}]}]
            """;
    static final String FLOOD = """
            import socket, struct, sys
            src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
            pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + b'\\x00\\x06\\x00\\x14'
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
            for i in range(n):
                # distinct (source port, destination port) per SYN; a valid checksum: the server answers (SYN cookies)
                h = struct.pack('!HHIIBBHHH', 1024 + i % 60000, 1000 + i // 60000, i, 0, 0x50, 0x02, 64240, 0, 0)
                w = sum(struct.unpack('!16H', pseudo + h))
                w = (w & 0xffff) + (w >> 16)
                w = (w & 0xffff) + (w >> 16)
                s.sendto(h[:16] + struct.pack('!H', ~w & 0xffff) + h[18:], (dst, 0))
            print('sent', n, flush=True)
            """;
    static final String PUSH_SERVER = """
            import socket, os, sys, time
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(('0.0.0.0', 7000))
            ls.listen()
            print('ready', flush=True)
            c, _ = ls.accept()
            while not os.path.exists(sys.argv[1]):
                time.sleep(0.05)
            c.sendall(b'pushed\\n')
            time.sleep(30)
            """;
    static final String IDLE_CLIENT = """
            import socket, sys
            c = socket.create_connection((sys.argv[1], 7000), timeout=5)
            print('connected', flush=True)
            c.settimeout(float(sys.argv[2]))
            try:
                print('got', c.recv(100).decode().strip(), flush=True)
            except socket.timeout:
                print('no push', flush=True)
            """;

    @Test
    void aSynFloodFromOnePodLeavesAnotherPodsEstablishedConnectionWorking() throws Exception {
        BpfAssumptions.assumeBpfUsable();
        Path trigger = Files.createTempFile("sieve-flood-", ".go");
        Files.delete(trigger);
        try (Lab lab = Lab.create()) {
            Map<String, Pod> pods = ManifestLab.populate(lab, EngineLab.parse(CLUSTER));
            DatapathConfig config = DatapathConfig.of("flood-" + lab.prefix()).withNetns(NetNs.named(lab.nodeNamespace()))
                    .withMapSizes(MapSizes.DEFAULT.withConntrack(CT_MAX));
            Datapath dp;
            try {
                dp = BpfAssumptions.openOrSkip(config);
            } catch (RuntimeException | Error e) {
                Datapath.unpinAll(config); // a failed load leaves the pin directory
                throw e;
            }
            EndpointManager manager = new EndpointManager(dp, NODE, 15001);
            try (BackgroundProcess server = pods.get("fl/s").start("python3", "-c", PUSH_SERVER, trigger.toString());
                 BackgroundProcess flooded = dev.sieve.lab.Traffic.startEchoServer(pods.get("fl/s"), 1000, 1001, 1002, 1003)) {
                PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, NODE);
                engine.load(EngineLab.parse(CLUSTER));
                assertThat(manager.sync(engine).errors()).isEmpty();
                assertThat(server.awaitOutput("ready", Duration.ofSeconds(10))).as("push server").isTrue();
                String s = pods.get("fl/s").ipv4();
                try (BackgroundProcess client = pods.get("fl/c").start("python3", "-c", IDLE_CLIENT, s, "600")) {
                    assertThat(client.awaitOutput("connected", Duration.ofSeconds(10))).as("connected: " + client.stderr()).isTrue();

                    int cId = manager.endpointId("fl/c"), sId = manager.endpointId("fl/s");
                    String before = "c " + dp.conntrackEntries(cId) + ", s " + dp.conntrackEntries(sId);
                    ExecResult flood = pods.get("fl/x").exec(Duration.ofMinutes(3), "python3", "-c", FLOOD,
                            pods.get("fl/x").ipv4(), s, Integer.toString(SYNS));
                    assertThat(flood.ok()).as("flood: " + flood.stderr()).isTrue();
                    int entries = dp.conntrackEntries(0);
                    assertThat(entries).as("the flood reached the conntrack table")
                            .isGreaterThanOrEqualTo(Math.min(SYNS, CT_MAX * 9 / 10));

                    String after = "c " + dp.conntrackEntries(cId) + ", s " + dp.conntrackEntries(sId);
                    Files.createFile(trigger);
                    assertThat(client.awaitOutput("got pushed", Duration.ofSeconds(10)))
                            .as("the server's push on the idle connection after " + SYNS + " SYNs (" + entries + " conntrack entries of "
                                    + CT_MAX + "; before " + before + ", after " + after + "; drops " + dp.drops() + "): " + client.stdout())
                            .isTrue();
                }
            } finally {
                for (String ifname : manager.attached().values()) {
                    try {
                        dp.detach(ifname);
                    } catch (RuntimeException ignored) {
                        // the lab goes next anyway
                    }
                }
                dp.close();
                Datapath.unpinAll(config);
            }
        } finally {
            Files.deleteIfExists(trigger);
        }
    }
}
