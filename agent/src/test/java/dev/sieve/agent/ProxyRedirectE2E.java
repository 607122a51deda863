package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.policy.l7.L7Rules.L7Protocol;
import dev.sieve.proxy.ProxiedConnection;
import dev.sieve.proxy.transparent.RedirectedDatagram;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Transparent redirection to the node proxy, end to end: a lab, the real agent with a relaying test protocol
 * plugged into its node proxy, real servers and clients in the pods. Connections that an ingress or egress L7
 * rule selects reach the proxy with their original destination, and the server sees the client's own address;
 * others never touch it; IPv4 and IPv6; the proxy closed fails redirected connections only, and they work again
 * when it is back; UDP (DNS) datagrams with their original destination, answered from the server's address.
 * Run with bpf delivery and with stack delivery ({@link ProxyRedirectBpfE2ETest}, {@link ProxyRedirectStackE2ETest}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ProxyRedirectE2E {

    static final String SERVER4 = "10.77.1.20", SERVER6 = "fd00:77::20";
    static final String CLIENT4 = "10.77.1.30", CLIENT6 = "fd00:77::30";
    static final String ECLIENT4 = "10.77.1.40", ECLIENT6 = "fd00:77::40";
    static final String WORLD4 = "198.51.100.7", WORLD6 = "2001:db8:51::7";

    Lab lab;
    Pod server, client, eclient, world;
    Path dir;
    Agent agent;
    final RelayProtocol relay = new RelayProtocol();
    final LinkedBlockingQueue<RedirectedDatagram> datagrams = new LinkedBlockingQueue<>();

    /** --local-delivery */
    abstract String delivery();

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        dir = Files.createTempDirectory("sieve-proxy-e2e");
        lab = Lab.create(Lab.claimRandomPrefix());
        server = lab.addPod("server", SERVER4, SERVER6);
        client = lab.addPod("client", CLIENT4, CLIENT6);
        eclient = lab.addPod("eclient", ECLIENT4, ECLIENT6);
        world = lab.addExternal("world", WORLD4, WORLD6);
        Files.writeString(dir.resolve("srv.py"), SERVER_PY);
        Files.writeString(dir.resolve("cli.py"), CLIENT_PY);
        server.start("python3", dir.resolve("srv.py").toString());
        world.start("python3", dir.resolve("srv.py").toString());
        Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("cluster.yaml"), CLUSTER);
        agent = new Agent(AgentOptions.parse(new String[] {
                "--node-name", "node-1", "--manifests", manifests.toString(), "--netns", lab.nodeNamespace(),
                "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0",
                "--local-delivery", delivery(), "--proxy-uplinks", world.hostInterface(), "--cleanup-on-exit"}, Map.of()));
        agent.proxy().tcp(L7Protocol.HTTP, relay);
        agent.proxy().udp(L7Protocol.DNS, this::dns);
        // the server is up
        for (int i = 0; i < 50 && !talk(client, SERVER4, 9090, "tcp").ok(); i++) Thread.sleep(100);
    }

    @AfterAll
    void tearDown() throws Exception {
        try {
            if (agent != null) agent.close();
        } finally {
            if (lab != null) {
                lab.close();
                Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
            }
            if (dir != null) {
                try (var s = Files.walk(dir)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @BeforeEach
    void clear() {
        relay.seen.clear();
        datagrams.clear();
    }

    /** A test DNS protocol: forwards the datagram to the original destination and relays the answer. */
    void dns(RedirectedDatagram d) {
        datagrams.add(d);
        var query = d.content().retain();
        d.upstream(new SimpleChannelInboundHandler<DatagramPacket>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket answer) {
                d.reply(answer.content().retain());
                ctx.channel().eventLoop().execute(ctx::close);
            }
        }).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) f.channel().writeAndFlush(query);
            else query.release();
        });
    }

    String recentFlows() {
        StringBuilder sb = new StringBuilder("\nrecent flows:");
        for (long q = Math.max(agent.ring().oldestSeq(), agent.ring().nextSeq() - 30); q < agent.ring().nextSeq(); q++) {
            var e = agent.ring().get(q);
            if (e == null) continue;
            Flow f = e.flow();
            sb.append("\n  ").append(f.getIP().getSource()).append(":").append(f.getL4().getTCP().getSourcePort())
                    .append(" -> ").append(f.getIP().getDestination()).append(":").append(f.getL4().getTCP().getDestinationPort())
                    .append(" ").append(f.getTrafficDirection()).append(" ").append(f.getVerdict()).append(" ").append(f.getDropReasonDesc())
                    .append(" if=").append(f.getInterface().getIndex());
        }
        return sb.toString();
    }

    ExecResult talk(Pod from, String host, int port, String proto) {
        return from.exec(Duration.ofSeconds(8), "python3", dir.resolve("cli.py").toString(), host, String.valueOf(port), proto);
    }

    @Test
    void ingressL7RuleSendsTheConnectionThroughTheProxyIPv4AndIPv6() throws Exception {
        for (String[] addrs : List.of(new String[] {SERVER4, CLIENT4}, new String[] {SERVER6, CLIENT6})) {
            ExecResult r = talk(client, addrs[0], 8080, "tcp");
            assertThat(r.ok()).as("client -> server:8080 through the proxy: " + r + recentFlows()).isTrue();
            assertThat(r.stdout().strip()).as("the server sees the client's own address").isEqualTo("peer=" + addrs[1] + " got=hello");
            ProxiedConnection c = relay.seen.poll(5, TimeUnit.SECONDS);
            assertThat(c).as("the proxy got the connection").isNotNull();
            assertThat(c.originalDestination()).isEqualTo(new InetSocketAddress(addrs[0], 8080));
            assertThat(c.client().getAddress()).isEqualTo(java.net.InetAddress.getByName(addrs[1]));
            assertThat(c.ingress()).isTrue();
            assertThat(c.proxyPort()).isEqualTo(agent.proxy().port(L7Protocol.HTTP, true));
            assertThat(c.policy().redirected()).isTrue();
        }
    }

    @Test
    void egressL7RuleSendsTheConnectionThroughTheProxyIPv4AndIPv6() throws Exception {
        for (String[] addrs : List.of(new String[] {SERVER4, ECLIENT4}, new String[] {SERVER6, ECLIENT6})) {
            ExecResult r = talk(eclient, addrs[0], 7070, "tcp");
            assertThat(r.ok()).as("eclient -> server:7070 through the proxy: " + r + recentFlows()).isTrue();
            assertThat(r.stdout().strip()).isEqualTo("peer=" + addrs[1] + " got=hello");
            ProxiedConnection c = relay.seen.poll(5, TimeUnit.SECONDS);
            assertThat(c).isNotNull();
            assertThat(c.originalDestination()).isEqualTo(new InetSocketAddress(addrs[0], 7070));
            assertThat(c.ingress()).isFalse();
            assertThat(c.proxyPort()).isEqualTo(agent.proxy().port(L7Protocol.HTTP, false));
        }
    }

    @Test
    void egressL7RuleToTheWorldGetsItsRepliesThroughTheUplinkProgram() throws Exception {
        for (String[] addrs : List.of(new String[] {WORLD4, ECLIENT4}, new String[] {WORLD6, ECLIENT6})) {
            ExecResult r = talk(eclient, addrs[0], 7070, "tcp");
            assertThat(r.ok()).as("eclient -> world:7070 through the proxy: " + r + recentFlows()).isTrue();
            assertThat(r.stdout().strip()).as("the world server sees the pod's address").isEqualTo("peer=" + addrs[1] + " got=hello");
            ProxiedConnection c = relay.seen.poll(5, TimeUnit.SECONDS);
            assertThat(c).isNotNull();
            assertThat(c.originalDestination()).isEqualTo(new InetSocketAddress(addrs[0], 7070));
            assertThat(c.ingress()).isFalse();
        }
    }

    @Test
    void ingressL7RuleForAClientThatIsNotALocalPodGoesThroughTheProxyToo() throws Exception {
        // the node itself (a CIDR peer here): its packets reach the server's veth from the stack, where
        // sieve_to_pod sends them back in for the proxy's socket (the hairpin), in both delivery modes
        ExecResult r = lab.execNode("python3", dir.resolve("cli.py").toString(), SERVER4, "8080", "tcp");
        assertThat(r.ok()).as("node -> server:8080 through the proxy: " + r + recentFlows()).isTrue();
        assertThat(r.stdout().strip()).isEqualTo("peer=" + Lab.NODE_IPV4 + " got=hello");
        ProxiedConnection c = relay.seen.poll(5, TimeUnit.SECONDS);
        assertThat(c).isNotNull();
        assertThat(c.originalDestination()).isEqualTo(new InetSocketAddress(SERVER4, 8080));
        assertThat(c.ingress()).isTrue();
    }

    @Test
    void connectionsNoL7RuleSelectsDoNotTouchTheProxy() throws Exception {
        for (String host : List.of(SERVER4, SERVER6)) {
            ExecResult r = talk(client, host, 9090, "tcp");
            assertThat(r.ok()).as(r.toString()).isTrue();
            assertThat(r.stdout()).contains("got=hello");
        }
        assertThat(relay.seen.poll(500, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void proxyClosedFailsRedirectedConnectionsOnlyAndTheyWorkWhenItIsBack() throws Exception {
        agent.proxy().suspend();
        try {
            assertThat(talk(client, SERVER4, 8080, "tcp").ok()).as("redirected, proxy closed: fails closed").isFalse();
            assertThat(talk(eclient, SERVER6, 7070, "tcp").ok()).as("egress redirected, proxy closed").isFalse();
            assertThat(talk(client, SERVER4, 9090, "tcp").ok()).as("not redirected: unaffected").isTrue();
        } finally {
            agent.proxy().resume();
        }
        ExecResult r = talk(client, SERVER4, 8080, "tcp");
        assertThat(r.ok()).as("proxy back: " + r).isTrue();
        assertThat(r.stdout()).contains("peer=" + CLIENT4);
        boolean dropped = false;
        for (long s = agent.ring().oldestSeq(); s < agent.ring().nextSeq(); s++) {
            var e = agent.ring().get(s);
            if (e != null && e.flow().getDropReasonDescValue() == 178) dropped = true;
        }
        assertThat(dropped).as("a flow dropped with SOCKET_LOOKUP_FAILED").isTrue();
        var http = agent.proxy().stats().get(new dev.sieve.proxy.transparent.ProxyListener(L7Protocol.HTTP, true));
        assertThat(http.redirected()).as("sieve_proxy_redirected_total{listener=http-ingress}").isPositive();
    }

    @Test
    void udpDatagramsReachTheProxyWithTheirOriginalDestinationAndAnswersComeFromTheServer() throws Exception {
        for (String[] addrs : List.of(new String[] {SERVER4, ECLIENT4}, new String[] {SERVER6, ECLIENT6})) {
            ExecResult r = talk(eclient, addrs[0], 5353, "udp");
            assertThat(r.ok()).as("udp through the proxy: " + r).isTrue();
            assertThat(r.stdout().strip()).as("the answer comes from the server the client asked")
                    .isEqualTo("peer=" + addrs[1] + " got=hello from=" + addrs[0] + ":5353");
            RedirectedDatagram d = datagrams.poll(5, TimeUnit.SECONDS);
            assertThat(d).isNotNull();
            assertThat(d.originalDestination()).isEqualTo(new InetSocketAddress(addrs[0], 5353));
            assertThat(d.ingress()).isFalse();
        }
    }

    @Test
    void theProxysEventsBecomeL7Flows() throws Exception {
        assertThat(talk(client, SERVER4, 8080, "tcp").ok()).isTrue();
        List<Flow> l7 = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (l7.isEmpty() && System.nanoTime() < deadline) {
            for (long s = agent.ring().oldestSeq(); s < agent.ring().nextSeq(); s++) {
                var e = agent.ring().get(s);
                if (e != null && e.flow().getType() == FlowType.L7) l7.add(e.flow());
            }
            Thread.sleep(50);
        }
        assertThat(l7).anySatisfy(f -> {
            assertThat(f.getEventType().getType()).isEqualTo(129);
            assertThat(f.getSource().getPodName()).isEqualTo("client");
            assertThat(f.getDestination().getPodName()).isEqualTo("server");
            assertThat(f.getSource().getIdentity()).isPositive();
            assertThat(f.getTrafficDirection()).isEqualTo(TrafficDirection.INGRESS);
            assertThat(f.getL7().getHttp().getMethod()).isEqualTo("RELAY");
            assertThat(f.getL4().getTCP().getDestinationPort()).isEqualTo(8080);
        });
    }

    static final String SERVER_PY = """
            import socket, threading
            def peer(a):
                return a[0][7:] if a[0].startswith('::ffff:') else a[0]
            def handle(c, a):
                try:
                    data = c.recv(100)
                    c.sendall(('peer=%s got=%s\\n' % (peer(a), data.decode().strip())).encode())
                finally:
                    c.close()
            def tcp(port):
                s = socket.socket(socket.AF_INET6)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(('::', port))
                s.listen(64)
                while True:
                    c, a = s.accept()
                    threading.Thread(target=handle, args=(c, a), daemon=True).start()
            def udp(port):
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                s.bind(('::', port))
                while True:
                    d, a = s.recvfrom(2000)
                    s.sendto(('peer=%s got=%s' % (peer(a), d.decode().strip())).encode(), a)
            for p in (7070, 8080, 9090):
                threading.Thread(target=tcp, args=(p,), daemon=True).start()
            udp(5353)
            """;

    static final String CLIENT_PY = """
            import socket, sys
            host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
            fam = socket.AF_INET6 if ':' in host else socket.AF_INET
            if proto == 'tcp':
                s = socket.create_connection((host, port), timeout=3)
                s.sendall(b'hello\\n')
                print(s.makefile().read().strip())
            else:
                s = socket.socket(fam, socket.SOCK_DGRAM)
                s.settimeout(3)
                s.sendto(b'hello', (host, port))
                d, a = s.recvfrom(2000)
                print(d.decode().strip(), 'from=%s:%d' % (a[0], a[1]))
            """;

    static final String CLUSTER = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: production}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: server, namespace: production, labels: {app: server}}
            spec: {nodeName: node-1}
            status: {podIP: 10.77.1.20, podIPs: [{ip: 10.77.1.20}, {ip: "fd00:77::20"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: client, namespace: production, labels: {app: client}}
            spec: {nodeName: node-1}
            status: {podIP: 10.77.1.30, podIPs: [{ip: 10.77.1.30}, {ip: "fd00:77::30"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: eclient, namespace: production, labels: {app: eclient}}
            spec: {nodeName: node-1}
            status: {podIP: 10.77.1.40, podIPs: [{ip: 10.77.1.40}, {ip: "fd00:77::40"}]}
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: server-ingress, namespace: production}
            spec:
              endpointSelector: {matchLabels: {app: server}}
              ingress:
                - fromEndpoints: [{matchLabels: {app: client}}, {matchLabels: {app: eclient}}]
                  toPorts:
                    - ports: [{port: "8080", protocol: TCP}]
                      rules:
                        http: [{method: GET}]
                - fromCIDR: [10.77.255.254/32]
                  toPorts:
                    - ports: [{port: "8080", protocol: TCP}]
                      rules:
                        http: [{method: GET}]
                - fromEndpoints: [{matchLabels: {app: client}}, {matchLabels: {app: eclient}}]
                  toPorts:
                    - ports: [{port: "9090", protocol: TCP}, {port: "7070", protocol: TCP}, {port: "5353", protocol: UDP}]
            ---
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: eclient-egress, namespace: production}
            spec:
              endpointSelector: {matchLabels: {app: eclient}}
              egress:
                - toEndpoints: [{matchLabels: {app: server}}]
                  toPorts:
                    - ports: [{port: "7070", protocol: TCP}]
                      rules:
                        http: [{method: GET}]
                - toEndpoints: [{matchLabels: {app: server}}]
                  toPorts:
                    - ports: [{port: "5353", protocol: UDP}]
                      rules:
                        dns: [{matchPattern: "*"}]
                - toEndpoints: [{matchLabels: {app: server}}]
                  toPorts:
                    - ports: [{port: "8080", protocol: TCP}, {port: "9090", protocol: TCP}]
                - toCIDR: [198.51.100.0/24, "2001:db8:51::/64"]
                  toPorts:
                    - ports: [{port: "7070", protocol: TCP}]
                      rules:
                        http: [{method: GET}]
            """;
}
