package dev.sieve.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The seed's Kafka example (as {@code scripts/demo/05b-kafka-topic-control-roles.yaml} writes it with roles)
 * enforced per request through the whole node: the real agent with its node proxy and the datapath's transparent
 * redirection, a real KRaft broker in the kafka-broker pod and kafka-clients in the producer's, the consumer's and
 * a stranger's pods (one JVM each, {@code KafkaProbe}). The producer produces to payments and is refused orders;
 * the consumer group reads payments and notifications, is refused audit and may not produce; the stranger is
 * dropped at L3/L4; Metadata for all topics shows each client only its topics; each request is a flow.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SeedKafkaEndToEndTest {

    static final String BROKER = "10.244.5.10", BOOTSTRAP = BROKER + ":9092";

    AgentLab node;
    Pod broker, producer, consumer, stranger;
    Path repo;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Lab.canRun(), "needs root and network namespaces");
        repo = AgentLab.repo();
        assertThat(repo.resolve("proxy/target/test-lib")).as("the broker's and clients' jars (built by the proxy module)").isDirectory();
        node = AgentLab.create("seed-kafka");
        broker = node.lab.addPod("kafka-broker", BROKER, null);
        producer = node.lab.addPod("producer", "10.244.5.20", null);
        consumer = node.lab.addPod("consumer", "10.244.5.30", null);
        stranger = node.lab.addPod("stranger", "10.244.5.40", null);
        node.manifest("examples/cluster/cluster.yaml").manifest("scripts/demo/05b-kafka-topic-control-roles.yaml");
        node.start();

        BackgroundProcess b = broker.start(java("-Xmx384m", "dev.sieve.proxy.kafka.KafkaBroker", BROKER, "9092",
                node.dir.resolve("kafka-data").toString(), "payments,notifications,orders,audit", "notifications"));
        assertThat(b.awaitOutput("kafka broker ready", Duration.ofSeconds(120))).as("the broker started").isTrue();
    }

    String[] java(String heap, String main, String... args) {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", heap,
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=error", "-cp",
                repo.resolve("proxy/target/test-classes") + ":" + repo.resolve("proxy/target/classes") + ":"
                        + repo.resolve("proxy/target/test-lib") + "/*", main));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (node != null) node.close();
    }

    /** Runs {@code KafkaProbe}'s steps in the pod: each step's outcome, by step. */
    Map<String, String> probe(Pod pod, String... steps) {
        List<String> args = new ArrayList<>(List.of(BOOTSTRAP));
        args.addAll(List.of(steps));
        ExecResult r = pod.exec(Duration.ofSeconds(120), java("-Xmx128m", "dev.sieve.proxy.kafka.KafkaProbe", args.toArray(String[]::new)));
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : r.stdout().split("\n")) {
            int arrow = line.indexOf(" -> ");
            if (arrow > 0) out.put(line.substring(0, arrow), line.substring(arrow + 4));
        }
        assertThat(out.keySet()).as("every step reported; stderr: " + r.stderr()).containsExactly(steps);
        return out;
    }

    @Test
    void kafkaRulesOfThe05ExampleAreEnforcedPerRequest() throws Exception {
        Map<String, String> p = probe(producer, "produce:payments", "produce:orders", "topics");
        assertThat(p.get("produce:payments")).startsWith("ok");
        assertThat(p.get("produce:orders")).isEqualTo("error TopicAuthorizationException");
        assertThat(p.get("topics")).as("Metadata for all topics shows the producer its topic only").isEqualTo("ok payments");

        // one raw Produce naming payments and orders: split by the proxy, payments stored, orders refused in the same answer
        Map<String, String> split = probe(producer, "rawproduce:9:payments,orders", "rawproduce:12:orders,payments");
        assertThat(split.get("rawproduce:9:payments,orders")).isEqualTo("ok orders-0=29,payments-0=0");
        assertThat(split.get("rawproduce:12:orders,payments")).isEqualTo("ok orders-0=29,payments-0=0");

        Map<String, String> c = probe(consumer, "group:billing:payments,notifications", "fetch:audit", "produce:payments", "topics");
        assertThat(c.get("group:billing:payments,notifications")).startsWith("ok {notifications=").contains("payments=");
        assertThat(c.get("fetch:audit")).isEqualTo("error TopicAuthorizationException");
        assertThat(c.get("produce:payments")).as("the consume role does not produce").isEqualTo("error TopicAuthorizationException");
        assertThat(c.get("topics")).isEqualTo("ok notifications,payments");
        Map<String, String> cf = probe(consumer, "rawfetch:12:payments,audit");
        assertThat(cf.get("rawfetch:12:payments,audit")).isEqualTo("ok audit-0=29,payments-0=0");

        Map<String, String> s = probe(stranger, "topics");
        assertThat(s.get("topics")).as("no rule admits the stranger").startsWith("error");

        // a real client asks Metadata for the topic first; the proxy answers it TOPIC_AUTHORIZATION_FAILED for
        // orders (as the broker's own authorizer would), so the client never sends the Produce
        Flow denied = flows(f -> kafka(f, L7FlowType.REQUEST, "metadata", "orders") && f.getVerdict() == Verdict.DROPPED).getLast();
        assertThat(denied.getSource().getPodName()).isEqualTo("producer");
        assertThat(denied.getDestination().getPodName()).isEqualTo("kafka-broker");
        assertThat(denied.getIngressDeniedByList()).extracting(r -> r.getName()).contains("kafka-topic-control-roles");
        Flow allowed = flows(f -> kafka(f, L7FlowType.REQUEST, "produce", "payments") && f.getVerdict() == Verdict.FORWARDED).getLast();
        assertThat(allowed.getIngressAllowedByList()).extracting(r -> r.getName()).contains("kafka-topic-control-roles");
        assertThat(flows(f -> kafka(f, L7FlowType.RESPONSE, "metadata", "orders") && f.getL7().getKafka().getErrorCode() == 29))
                .as("the proxy's answer: TOPIC_AUTHORIZATION_FAILED").isNotEmpty();
        assertThat(flows(f -> kafka(f, L7FlowType.REQUEST, "metadata", "audit") && f.getVerdict() == Verdict.DROPPED
                && f.getSource().getPodName().equals("consumer"))).isNotEmpty();
        assertThat(flows(f -> kafka(f, L7FlowType.REQUEST, "produce", "payments") && f.getVerdict() == Verdict.DROPPED
                && f.getSource().getPodName().equals("consumer"))).as("the consumer's produce").isNotEmpty();
        assertThat(flows(f -> kafka(f, L7FlowType.REQUEST, "fetch", "notifications") && f.getVerdict() == Verdict.FORWARDED
                && f.getSource().getPodName().equals("consumer"))).isNotEmpty();
        // the split Produce: one request, its flows per topic (payments FORWARDED, orders DROPPED, same correlation id)
        Flow splitOrders = flows(f -> kafka(f, L7FlowType.REQUEST, "produce", "orders") && f.getVerdict() == Verdict.DROPPED
                && f.getL7().getKafka().getApiVersion() == 9).getLast();
        assertThat(flows(f -> kafka(f, L7FlowType.REQUEST, "produce", "payments") && f.getVerdict() == Verdict.FORWARDED
                && f.getL7().getKafka().getApiVersion() == 9 && f.getSource().getPodName().equals("producer")
                && f.getL7().getKafka().getCorrelationId() == splitOrders.getL7().getKafka().getCorrelationId())).isNotEmpty();
        assertThat(flows(f -> kafka(f, L7FlowType.RESPONSE, "produce", "orders") && f.getL7().getKafka().getErrorCode() == 29
                && f.getL7().getKafka().getApiVersion() == 9)).isNotEmpty();
        assertThat(flows(f -> kafka(f, L7FlowType.REQUEST, "fetch", "audit") && f.getVerdict() == Verdict.DROPPED
                && f.getL7().getKafka().getApiVersion() == 12)).isNotEmpty();
        assertThat(flows(f -> f.getType() == FlowType.L3_L4 && f.getVerdict() == Verdict.DROPPED
                && f.getSource().getPodName().equals("stranger"))).as("the stranger's SYN dropped at L3/L4").isNotEmpty();
    }

    static boolean kafka(Flow f, L7FlowType type, String apiKey, String topic) {
        return f.getType() == FlowType.L7 && f.getL7().getType() == type && f.getL7().hasKafka()
                && f.getL7().getKafka().getApiKey().equals(apiKey) && f.getL7().getKafka().getTopic().equals(topic);
    }

    List<Flow> flows(Predicate<Flow> p) throws InterruptedException {
        return node.flows(p);
    }
}
