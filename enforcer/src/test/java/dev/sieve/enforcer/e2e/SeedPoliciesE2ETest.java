package dev.sieve.enforcer.e2e;

import static dev.sieve.enforcer.events.VerdictEvent.AUDIT;
import static dev.sieve.enforcer.events.VerdictEvent.DROPPED;
import static dev.sieve.enforcer.events.VerdictEvent.FORWARDED;
import static dev.sieve.enforcer.events.VerdictEvent.POLICY_DENIED;
import static dev.sieve.enforcer.events.VerdictEvent.POLICY_DENY;
import static dev.sieve.enforcer.events.VerdictEvent.REDIRECTED;
import static dev.sieve.lab.Traffic.Outcome.PASSED;
import static dev.sieve.lab.Traffic.Outcome.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.maps.Direction;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import dev.sieve.lab.Traffic;
import dev.sieve.policy.compute.EnforcementMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seed examples and the L3/L4 features, end to end: a lab that mirrors examples/cluster (the
 * demo cluster's pod addresses, the API server on a world-side host, the lab node as the local
 * node), the real engine computing the policy, {@code EndpointManager.sync} programming the
 * kernel, real TCP/UDP/ICMP traffic, and the ring buffer's events checked against the engine's
 * identities and rule ids.
 */
class SeedPoliciesE2ETest {
    static final Duration DROP_WAIT = Duration.ofMillis(600);
    static final String WORLD1 = "198.51.100.1";     // inside 198.51.100.0/24, outside the except
    static final String WORLD2 = "198.51.100.130";   // inside the except 198.51.100.128/25
    static final String APISERVER = "198.51.100.200";
    static final int TCP = 6, UDP = 17, ICMP = 1;

    static EngineLab l;

    @BeforeAll
    static void setUp() {
        String cluster = EngineLab.read("examples/cluster/cluster.yaml")
                .replace("- ip: 10.96.0.1", "- ip: " + APISERVER)
                .replace("address: 10.250.0.1", "address: " + Lab.NODE_IPV4);
        l = EngineLab.start(cluster, Map.of("world1", WORLD1, "world2", WORLD2));
        List<String> all = new ArrayList<>(l.hosts.keySet());
        l.serve(all, 53, 80, 443, 5353, 5432, 5433, 8080, 8081, 8101, 9090, 9092);
    }

    @AfterAll
    static void tearDown() {
        if (l != null) {
            l.close();
        }
    }

    @BeforeEach
    void fresh() {
        l.engine.setMode(EnforcementMode.DEFAULT);
        l.applyCluster(l.cluster().replace("  annotations:\n    policy.sieve.dev/audit-mode: \"true\"\n", ""));
        l.reset();
    }

    // ---- helpers ---------------------------------------------------------------------------------

    static Pod h(String key) {
        return l.host(key);
    }

    static String ip(String key) {
        return h(key).ipv4();
    }

    static Traffic.Outcome tcp(String from, String to, int port) {
        return Traffic.tcp(h(from), ip(to), port, DROP_WAIT);
    }

    static Traffic.Outcome udp(String from, String to, int port) {
        return Traffic.udp(h(from), ip(to), port, DROP_WAIT);
    }

    static Traffic.Outcome ping(String from, String to) {
        return Traffic.ping(h(from), ip(to), DROP_WAIT);
    }

    static String example(String name) {
        return EngineLab.read("examples/policies/" + name);
    }

    /** The event of a new flow from -> to seen at {@code d} with {@code verdict}; checks identities. */
    static VerdictEvent event(String from, String to, int proto, int dport, Direction d, int verdict) {
        return event(from, to, proto, dport, d, verdict, x -> true);
    }

    static VerdictEvent event(String from, String to, int proto, int dport, Direction d, int verdict,
                              java.util.function.Predicate<VerdictEvent> also) {
        VerdictEvent e = l.await(verdict(verdict) + " " + d + " " + from + " -> " + to + ":" + dport + "/" + proto,
                EngineLab.flow(ip(from), ip(to), proto, dport).and(x -> x.direction() == d && x.verdict() == verdict).and(also));
        assertThat(e.srcIdentity()).as("source identity of " + e).isEqualTo(identity(from));
        assertThat(e.dstIdentity()).as("destination identity of " + e).isEqualTo(identity(to));
        return e;
    }

    static int identity(String key) {
        return key.contains("/") ? l.identity(key) : l.identityOfIp(ip(key));
    }

    /** Drop events between the given hosts (flows of earlier tests may still send stray packets). */
    static List<VerdictEvent> drops(String... keys) {
        List<String> ips = java.util.Arrays.stream(keys).map(SeedPoliciesE2ETest::ip).toList();
        return l.events.stream().filter(e -> e.verdict() == DROPPED
                && ips.stream().anyMatch(i -> EngineLab.same(e.source(), i))
                && ips.stream().anyMatch(i -> EngineLab.same(e.destination(), i))).toList();
    }

    static String verdict(int v) {
        return VerdictEvent.verdictName(v);
    }

    /** Asserts a drop event with its reason and the policy of its rule (null: no rule, default deny). */
    static void dropped(String from, String to, int proto, int dport, Direction d, int reason, String policy) {
        VerdictEvent e = event(from, to, proto, dport, d, DROPPED);
        assertThat(e.dropReason()).as("drop reason of " + e).isEqualTo(reason);
        assertThat(l.policyOfRule(e.ruleId())).as("policy of rule " + e.ruleId()).isEqualTo(policy);
    }

    static void forwarded(String from, String to, int proto, int dport, Direction d, String policy) {
        // the new-connection event: the close event of an earlier test's connection on the same
        // port can still arrive (the reader drains the ring on a timer)
        VerdictEvent e = event(from, to, proto, dport, d, FORWARDED, VerdictEvent::isNewConnection);
        assertThat(l.policyOfRule(e.ruleId())).as("policy of rule " + e.ruleId() + " in " + e).isEqualTo(policy);
    }

    static final String FRONTEND = "production/frontend", BACKEND = "production/backend", DATABASE = "production/database",
            PROD_CLIENT = "production/prod-client", DEV_CLIENT = "development/dev-client", OPS = "ops/ops-tool",
            API = "production/api-server", API_CONSUMER = "production/api-consumer", KAFKA = "messaging/kafka-broker",
            PRODUCER = "messaging/producer", CONSUMER = "messaging/consumer", STRANGER = "messaging/stranger",
            UPLOADER = "data-pipeline/uploader", KUBE_DNS = "kube-system/kube-dns";

    // ---- seed examples ---------------------------------------------------------------------------

    @Test
    void example01FrontendReachesBackendOn8080Only() {
        l.apply(example("01-allow-frontend-to-backend.yaml"));
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(PASSED);
        forwarded(FRONTEND, BACKEND, TCP, 8080, Direction.INGRESS, "allow-frontend-to-backend");
        forwarded(FRONTEND, BACKEND, TCP, 8080, Direction.EGRESS, null); // frontend's egress is not under policy
        assertThat(Traffic.tcp(h(FRONTEND), h(BACKEND).ipv6().orElseThrow(), 8080, DROP_WAIT)).as("IPv6").isEqualTo(PASSED);

        assertThat(tcp(FRONTEND, BACKEND, 9090)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, TCP, 9090, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(udp(FRONTEND, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, UDP, 8080, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(ping(FRONTEND, BACKEND)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, ICMP, -1, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, BACKEND, TCP, 8080, Direction.INGRESS, POLICY_DENIED, null);
        // backend's egress is not under policy: it reaches others, and their replies come back
        assertThat(tcp(BACKEND, FRONTEND, 8080)).isEqualTo(PASSED);
    }

    @Test
    void example04DenyDevToProdDbWinsOverTheClusterAllow() {
        l.apply(example("04-deny-dev-to-prod-db.yaml"));
        assertThat(tcp(PROD_CLIENT, DATABASE, 5432)).isEqualTo(PASSED);
        forwarded(PROD_CLIENT, DATABASE, TCP, 5432, Direction.INGRESS, "deny-dev-to-prod-db");
        assertThat(tcp(OPS, DATABASE, 5432)).isEqualTo(PASSED);
        forwarded(OPS, DATABASE, TCP, 5432, Direction.INGRESS, "deny-dev-to-prod-db");
        assertThat(tcp(DEV_CLIENT, DATABASE, 5432)).isEqualTo(TIMED_OUT);
        dropped(DEV_CLIENT, DATABASE, TCP, 5432, Direction.INGRESS, POLICY_DENY, "deny-dev-to-prod-db");
        assertThat(ping(DEV_CLIENT, DATABASE)).isEqualTo(TIMED_OUT);
        dropped(DEV_CLIENT, DATABASE, ICMP, -1, Direction.INGRESS, POLICY_DENY, "deny-dev-to-prod-db");
        assertThat(tcp(PROD_CLIENT, DATABASE, 5433)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, DATABASE, TCP, 5433, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp("world1", DATABASE, 5432)).as("world is not cluster").isEqualTo(TIMED_OUT);
        dropped("world1", DATABASE, TCP, 5432, Direction.INGRESS, POLICY_DENIED, null);
    }

    @Test
    void example06DeniesTheWorldAndAllowsTheApiServer() {
        l.apply(example("06-baseline-clusterwide.yaml"));
        assertThat(tcp(FRONTEND, "kube-apiserver", 443)).isEqualTo(PASSED);
        forwarded(FRONTEND, "kube-apiserver", TCP, 443, Direction.EGRESS, "allow-kube-apiserver");
        assertThat(identity("kube-apiserver")).isEqualTo(7);
        assertThat(tcp(FRONTEND, "kube-apiserver", 80)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, "kube-apiserver", TCP, 80, Direction.EGRESS, POLICY_DENIED, null);
        assertThat(tcp(FRONTEND, "world1", 80)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, "world1", TCP, 80, Direction.EGRESS, POLICY_DENY, "baseline-deny-world-egress");
        assertThat(identity("world1")).isEqualTo(2);
        assertThat(udp(UPLOADER, "world2", 53)).isEqualTo(TIMED_OUT);
        dropped(UPLOADER, "world2", UDP, 53, Direction.EGRESS, POLICY_DENY, "baseline-deny-world-egress");
        assertThat(ping(DEV_CLIENT, "world1")).isEqualTo(TIMED_OUT);
        dropped(DEV_CLIENT, "world1", ICMP, -1, Direction.EGRESS, POLICY_DENY, "baseline-deny-world-egress");
        // egress is default-deny for every pod now, also towards pods
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, TCP, 8080, Direction.EGRESS, POLICY_DENIED, null);
    }

    @Test
    void replyTrafficPassesAnEgressDenyThroughConntrack() {
        l.apply(example("06-baseline-clusterwide.yaml")); // egress to world denied, ingress open
        assertThat(tcp("world1", FRONTEND, 8080)).isEqualTo(PASSED);
        forwarded("world1", FRONTEND, TCP, 8080, Direction.INGRESS, null);
        VerdictEvent reply = l.await("reply of world1 -> frontend", e -> e.isReply() && e.protocol() == TCP
                && EngineLab.same(e.source(), ip(FRONTEND)) && EngineLab.same(e.destination(), WORLD1));
        assertThat(reply.verdict()).isEqualTo(FORWARDED);
        assertThat(reply.direction()).isEqualTo(Direction.EGRESS);
        assertThat(udp("world1", FRONTEND, 53)).as("UDP reply").isEqualTo(PASSED);
        assertThat(ping("world2", FRONTEND)).as("echo reply").isEqualTo(PASSED);
        assertThat(drops("world1", "world2", FRONTEND)).as("no drops").isEmpty();
    }

    @Test
    void example07NetworkPolicy() {
        l.apply(example("07-k8s-networkpolicy.yaml"));
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(PASSED);
        forwarded(FRONTEND, BACKEND, TCP, 8080, Direction.INGRESS, "backend-ingress");
        assertThat(tcp(OPS, BACKEND, 8080)).as("namespace team=ops").isEqualTo(PASSED);
        forwarded(OPS, BACKEND, TCP, 8080, Direction.INGRESS, "backend-ingress");
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, BACKEND, TCP, 8080, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp(OPS, BACKEND, 9090)).as("pods are not ipBlock peers").isEqualTo(TIMED_OUT);
        // egress: DNS only
        assertThat(udp(BACKEND, KUBE_DNS, 53)).isEqualTo(PASSED);
        forwarded(BACKEND, KUBE_DNS, UDP, 53, Direction.EGRESS, "backend-ingress");
        assertThat(tcp(BACKEND, KUBE_DNS, 53)).isEqualTo(PASSED);
        assertThat(tcp(BACKEND, FRONTEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(BACKEND, FRONTEND, TCP, 8080, Direction.EGRESS, POLICY_DENIED, null);
    }

    /** 07's ipBlock (10.0.0.0/8 except 10.1.0.0/16) mirrored onto the lab's world range. */
    @Test
    void example07IpBlockWithExceptFromTheWorld() {
        l.apply(example("07-k8s-networkpolicy.yaml").replace("name: backend-ingress", "name: backend-ingress-world")
                .replace("10.0.0.0/8", "198.51.100.0/24").replace("10.1.0.0/16", "198.51.100.128/25"));
        assertThat(tcp("world1", BACKEND, 9092)).isEqualTo(PASSED);
        forwarded("world1", BACKEND, TCP, 9092, Direction.INGRESS, "backend-ingress-world");
        assertThat(tcp("world1", BACKEND, 9090)).isEqualTo(PASSED);
        assertThat(tcp("world1", BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped("world1", BACKEND, TCP, 8080, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp("world2", BACKEND, 9092)).as("in the except").isEqualTo(TIMED_OUT);
        dropped("world2", BACKEND, TCP, 9092, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(udp("world1", BACKEND, 9092)).isEqualTo(TIMED_OUT);
        dropped("world1", BACKEND, UDP, 9092, Direction.INGRESS, POLICY_DENIED, null);
    }

    // ---- L7 seed examples: the L4 part (no proxy listens in this lab: redirected traffic fails closed) ----
    // The redirection itself is tested with the agent's node proxy (agent: ProxyRedirect*E2ETest).

    @Test
    void example02HttpIsRedirectedForTheConsumerAndDroppedForOthers() {
        l.apply(example("02-api-http-filter.yaml"));
        assertThat(tcp(API_CONSUMER, API, 80)).isEqualTo(TIMED_OUT); // redirected; no proxy here: fail closed
        VerdictEvent e = event(API_CONSUMER, API, TCP, 80, Direction.INGRESS, REDIRECTED);
        assertThat(event(API_CONSUMER, API, TCP, 80, Direction.INGRESS, DROPPED).dropReason()).isEqualTo(VerdictEvent.SOCKET_LOOKUP_FAILED);
        assertThat(e.proxyPort()).isEqualTo(EngineLab.PROXY_PORT);
        assertThat(l.policyOfRule(e.ruleId())).isEqualTo("api-http-filter");
        assertThat(tcp(PROD_CLIENT, API, 80)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, API, TCP, 80, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp(API_CONSUMER, API, 443)).isEqualTo(TIMED_OUT);
        dropped(API_CONSUMER, API, TCP, 443, Direction.INGRESS, POLICY_DENIED, null);
    }

    @Test
    void example05KafkaIsRedirectedForProducersAndConsumers() {
        l.apply(example("05-kafka-topic-control.yaml"));
        for (String client : List.of(PRODUCER, CONSUMER)) {
            assertThat(tcp(client, KAFKA, 9092)).isEqualTo(TIMED_OUT);
            VerdictEvent e = event(client, KAFKA, TCP, 9092, Direction.INGRESS, REDIRECTED);
            assertThat(l.policyOfRule(e.ruleId())).isEqualTo("kafka-topic-control");
        }
        assertThat(tcp(STRANGER, KAFKA, 9092)).isEqualTo(TIMED_OUT);
        dropped(STRANGER, KAFKA, TCP, 9092, Direction.INGRESS, POLICY_DENIED, null);
    }

    @Test
    void example03DnsIsRedirectedAndUnresolvedNamesAreDropped() {
        l.apply(example("03-allow-s3-egress.yaml"));
        assertThat(udp(UPLOADER, KUBE_DNS, 53)).isEqualTo(TIMED_OUT);
        VerdictEvent e = event(UPLOADER, KUBE_DNS, UDP, 53, Direction.EGRESS, REDIRECTED);
        assertThat(l.policyOfRule(e.ruleId())).isEqualTo("allow-s3-egress");
        dropped(UPLOADER, KUBE_DNS, UDP, 53, Direction.EGRESS, VerdictEvent.SOCKET_LOOKUP_FAILED, null);
        assertThat(tcp(UPLOADER, KUBE_DNS, 53)).isEqualTo(TIMED_OUT);
        event(UPLOADER, KUBE_DNS, TCP, 53, Direction.EGRESS, REDIRECTED);
        // no name resolved through the (future) DNS proxy yet: no FQDN identity, the world is not allowed
        assertThat(tcp(UPLOADER, "world1", 443)).isEqualTo(TIMED_OUT);
        dropped(UPLOADER, "world1", TCP, 443, Direction.EGRESS, POLICY_DENIED, null);
        assertThat(udp(UPLOADER, BACKEND, 53)).isEqualTo(TIMED_OUT);
        dropped(UPLOADER, BACKEND, UDP, 53, Direction.EGRESS, POLICY_DENIED, null);
    }

    // ---- features --------------------------------------------------------------------------------

    static final String CIDR_POLICY = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: cidr-world
              namespace: production
            spec:
              endpointSelector:
                matchLabels:
                  app: frontend
              ingress:
                - fromCIDRSet:
                    - cidr: 198.51.100.0/24
                      except:
                        - 198.51.100.128/25
                  toPorts:
                    - ports:
                        - port: "80"
                          protocol: TCP
              egress:
                - toCIDR:
                    - 198.51.100.1/32
            """;

    @Test
    void cidrAndCidrSetWithExcept() {
        l.apply(CIDR_POLICY);
        assertThat(tcp("world1", FRONTEND, 80)).isEqualTo(PASSED);
        forwarded("world1", FRONTEND, TCP, 80, Direction.INGRESS, "cidr-world");
        assertThat(identity("world1")).isGreaterThanOrEqualTo(1 << 24); // a local CIDR identity
        assertThat(tcp("world2", FRONTEND, 80)).isEqualTo(TIMED_OUT);
        dropped("world2", FRONTEND, TCP, 80, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp("world1", FRONTEND, 8080)).isEqualTo(TIMED_OUT);
        dropped("world1", FRONTEND, TCP, 8080, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp(FRONTEND, "world1", 443)).isEqualTo(PASSED);
        forwarded(FRONTEND, "world1", TCP, 443, Direction.EGRESS, "cidr-world");
        assertThat(udp(FRONTEND, "world1", 53)).isEqualTo(PASSED);
        assertThat(tcp(FRONTEND, "world2", 443)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, "world2", TCP, 443, Direction.EGRESS, POLICY_DENIED, null);
        assertThat(tcp(FRONTEND, BACKEND, 8080)).as("CIDR rules do not select pods").isEqualTo(TIMED_OUT);
    }

    @Test
    void entitiesHostAndWorld() {
        l.apply("""
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata:
                  name: entities
                  namespace: production
                spec:
                  endpointSelector:
                    matchLabels:
                      app: backend
                  ingress:
                    - fromEntities:
                        - host
                  egress:
                    - toEntities:
                        - world
                      toPorts:
                        - ports:
                            - port: "80"
                              protocol: TCP
                """);
        assertThat(l.lab.execNode("ping", "-c1", "-W1", ip(BACKEND)).ok()).as("node -> backend").isTrue();
        VerdictEvent e = l.await("host ping", EngineLab.flow(Lab.NODE_IPV4, ip(BACKEND), ICMP, -1)
                .and(x -> x.verdict() == FORWARDED && x.direction() == Direction.INGRESS));
        assertThat(e.srcIdentity()).isEqualTo(1);
        assertThat(l.policyOfRule(e.ruleId())).isEqualTo("entities");
        assertThat(ping(FRONTEND, BACKEND)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, ICMP, -1, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(tcp(BACKEND, "world1", 80)).isEqualTo(PASSED);
        forwarded(BACKEND, "world1", TCP, 80, Direction.EGRESS, "entities");
        assertThat(tcp(BACKEND, "world1", 443)).isEqualTo(TIMED_OUT);
        dropped(BACKEND, "world1", TCP, 443, Direction.EGRESS, POLICY_DENIED, null);
        assertThat(tcp(BACKEND, FRONTEND, 80)).as("a pod is not the world").isEqualTo(TIMED_OUT);
        dropped(BACKEND, FRONTEND, TCP, 80, Direction.EGRESS, POLICY_DENIED, null);
    }

    static final String RANGE_AND_DENY = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: range-and-deny
              namespace: production
            spec:
              endpointSelector:
                matchLabels:
                  app: backend
              ingress:
                - fromEndpoints:
                    - {}
                  toPorts:
                    - ports:
                        - port: "8000"
                          endPort: 8100
                          protocol: TCP
                        - port: "5353"
                          protocol: ANY
              ingressDeny:
                - fromEndpoints:
                    - matchLabels:
                        app: frontend
                  toPorts:
                    - ports:
                        - port: "8080"
                          protocol: TCP
            """;

    @Test
    void denyPrecedencePortRangesAndProtocolAny() {
        l.apply(RANGE_AND_DENY);
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, TCP, 8080, Direction.INGRESS, POLICY_DENY, "range-and-deny");
        assertThat(tcp(FRONTEND, BACKEND, 8081)).as("inside the range, outside the deny").isEqualTo(PASSED);
        forwarded(FRONTEND, BACKEND, TCP, 8081, Direction.INGRESS, "range-and-deny");
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(PASSED);
        forwarded(PROD_CLIENT, BACKEND, TCP, 8080, Direction.INGRESS, "range-and-deny");
        assertThat(tcp(PROD_CLIENT, BACKEND, 8101)).as("past the range end").isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, BACKEND, TCP, 8101, Direction.INGRESS, POLICY_DENIED, null);
        assertThat(udp(PROD_CLIENT, BACKEND, 8081)).as("range is TCP only").isEqualTo(TIMED_OUT);
        // protocol ANY on 5353: TCP and UDP, not ICMP
        assertThat(tcp(PROD_CLIENT, BACKEND, 5353)).isEqualTo(PASSED);
        forwarded(PROD_CLIENT, BACKEND, TCP, 5353, Direction.INGRESS, "range-and-deny");
        assertThat(udp(PROD_CLIENT, BACKEND, 5353)).isEqualTo(PASSED);
        forwarded(PROD_CLIENT, BACKEND, UDP, 5353, Direction.INGRESS, "range-and-deny");
        assertThat(ping(PROD_CLIENT, BACKEND)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, BACKEND, ICMP, -1, Direction.INGRESS, POLICY_DENIED, null);
    }

    @Test
    void enforcementModesDefaultAlwaysNever() {
        // default, no policy: everything passes
        l.apply();
        assertThat(tcp(PROD_CLIENT, BACKEND, 9090)).isEqualTo(PASSED);
        // always: no policy means nothing is allowed, in both directions
        l.engine.setMode(EnforcementMode.ALWAYS);
        l.apply();
        assertThat(tcp(PROD_CLIENT, BACKEND, 9090)).isEqualTo(TIMED_OUT);
        dropped(PROD_CLIENT, BACKEND, TCP, 9090, Direction.EGRESS, POLICY_DENIED, null);
        assertThat(ping("world1", BACKEND)).isEqualTo(TIMED_OUT);
        dropped("world1", BACKEND, ICMP, -1, Direction.INGRESS, POLICY_DENIED, null);
        // always + 01: frontend egress must be allowed too, so still dropped at frontend's egress
        l.apply(example("01-allow-frontend-to-backend.yaml"));
        l.reset();
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        dropped(FRONTEND, BACKEND, TCP, 8080, Direction.EGRESS, POLICY_DENIED, null);
        // never: 01 is there but not enforced
        l.engine.setMode(EnforcementMode.NEVER);
        l.apply(example("01-allow-frontend-to-backend.yaml"));
        l.reset();
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(PASSED);
        forwarded(PROD_CLIENT, BACKEND, TCP, 8080, Direction.INGRESS, null);
        assertThat(ping(DEV_CLIENT, BACKEND)).isEqualTo(PASSED);
        // back to default: 01 applies again at once
        l.engine.setMode(EnforcementMode.DEFAULT);
        l.apply(example("01-allow-frontend-to-backend.yaml"));
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(TIMED_OUT);
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(PASSED);
    }

    @Test
    void auditModeReportsWouldBeDropsAndLetsThemPass() {
        String audited = l.cluster().replace("  name: production\n", "  name: production\n  annotations:\n    policy.sieve.dev/audit-mode: \"true\"\n");
        assertThat(audited).isNotEqualTo(l.cluster());
        l.applyCluster(audited, example("01-allow-frontend-to-backend.yaml"), example("04-deny-dev-to-prod-db.yaml"));
        assertThat(tcp(PROD_CLIENT, BACKEND, 8080)).isEqualTo(PASSED);
        VerdictEvent e = event(PROD_CLIENT, BACKEND, TCP, 8080, Direction.INGRESS, AUDIT);
        assertThat(e.dropReason()).isEqualTo(POLICY_DENIED);
        assertThat(tcp(DEV_CLIENT, DATABASE, 5432)).as("explicit deny, audited").isEqualTo(PASSED);
        e = event(DEV_CLIENT, DATABASE, TCP, 5432, Direction.INGRESS, AUDIT);
        assertThat(e.dropReason()).isEqualTo(POLICY_DENY);
        assertThat(l.policyOfRule(e.ruleId())).isEqualTo("deny-dev-to-prod-db");
        assertThat(tcp(FRONTEND, BACKEND, 8080)).isEqualTo(PASSED);
        forwarded(FRONTEND, BACKEND, TCP, 8080, Direction.INGRESS, "allow-frontend-to-backend");
        assertThat(drops(PROD_CLIENT, BACKEND, DEV_CLIENT, DATABASE, FRONTEND)).as("nothing dropped in audit mode").isEmpty();
    }

    @Test
    void policyChangeWhileAConnectionIsOpen() throws Exception {
        l.apply(example("01-allow-frontend-to-backend.yaml"));
        try (BackgroundProcess conn = h(FRONTEND).start("nc", ip(BACKEND), "8080")) {
            conn.send("one\n");
            assertThat(conn.awaitOutput("one", Duration.ofSeconds(3))).as("echo over the open connection").isTrue();
            forwarded(FRONTEND, BACKEND, TCP, 8080, Direction.INGRESS, "allow-frontend-to-backend");
            // 01 now allows 9090 only: the engine's incremental upsert, then the kernel
            var changed = EngineLab.parse(example("01-allow-frontend-to-backend.yaml").replace("\"8080\"", "\"9090\"")).policies().getFirst();
            l.engine.upsertPolicy(changed);
            l.sync();
            assertThat(tcp(FRONTEND, BACKEND, 8080)).as("new connection right after the change").isEqualTo(TIMED_OUT);
            assertThat(tcp(FRONTEND, BACKEND, 9090)).isEqualTo(PASSED);
            forwarded(FRONTEND, BACKEND, TCP, 9090, Direction.INGRESS, "allow-frontend-to-backend");
            conn.send("two\n");
            VerdictEvent cut = l.await("the open connection re-checked and dropped",
                    EngineLab.flow(ip(FRONTEND), ip(BACKEND), TCP, 8080).and(e -> e.verdict() == DROPPED
                            && (e.flags() & VerdictEvent.FLAG_RECHECK) != 0));
            assertThat(cut.dropReason()).isEqualTo(POLICY_DENIED);
            assertThat(conn.stdout()).doesNotContain("two");
        }
    }
}
