package dev.sieve.proxy.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.ProduceResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Kafka proxy between real kafka-clients producers, consumers and admin clients and a real KRaft broker,
 * judged by the real policy engine with the {@code 05b-kafka-topic-control-roles} (the seed's 05 with roles): one proxy listener per client
 * role, each advertised by the broker on its own listener so that the clients keep talking through the proxy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaProxyTest {

    static final String BROKER = "messaging/kafka-broker";

    KafkaBroker broker;
    KafkaProxyProtocol protocol = new KafkaProxyProtocol();
    KafkaProxyHarness producerProxy;
    KafkaProxyHarness consumerProxy;
    Tracer tracer;

    @BeforeAll
    void start() throws Exception {
        tracer = KafkaProxyHarness.tracer(Path.of("../examples").toAbsolutePath().normalize(), "../../scripts/demo/05b-kafka-topic-control-roles.yaml");
        int producerListener = KafkaBroker.freePort(), consumerListener = KafkaBroker.freePort();
        producerProxy = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/producer", BROKER, 9092),
                () -> new InetSocketAddress("127.0.0.1", producerListener));
        consumerProxy = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/consumer", BROKER, 9092),
                () -> new InetSocketAddress("127.0.0.1", consumerListener));
        broker = KafkaBroker.start("127.0.0.1", 0, List.of(
                new KafkaBroker.Listener("PRODUCERS", producerListener, producerProxy.address()),
                new KafkaBroker.Listener("CONSUMERS", consumerListener, consumerProxy.address())));
        broker.createTopics("payments", "notifications", "orders", "audit");
        // the partitions' leadership is in place once a direct producer is acknowledged (raw requests do not retry)
        try (KafkaProducer<String, String> direct = new KafkaProducer<>(producerConfig(parse(broker.bootstrap())))) {
            for (String t : List.of("payments", "orders")) direct.send(new ProducerRecord<>(t, "warm", "up")).get(20, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    void stop() {
        if (producerProxy != null) producerProxy.close();
        if (consumerProxy != null) consumerProxy.close();
        if (broker != null) broker.close();
    }

    static Properties producerConfig(InetSocketAddress bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap.getHostString() + ":" + bootstrap.getPort());
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        // Cilium's produce role is Produce, Metadata and ApiVersions: no InitProducerId for idempotence
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    static Properties consumerConfig(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }

    static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    List<L7Event> events(KafkaProxyHarness h, Predicate<L7Event> p) {
        return h.events.stream().filter(p).toList();
    }

    static boolean request(L7Event e, String apiKey, String topic) {
        return e.layer7().getType() == L7FlowType.REQUEST && e.layer7().getKafka().getApiKey().equals(apiKey)
                && e.layer7().getKafka().getTopic().equals(topic);
    }

    // ---- producer -------------------------------------------------------------------------------------------

    @Test
    void producerProducesPaymentsAndIsRefusedOrders() throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig(producerProxy.address()))) {
            var meta = producer.send(new ProducerRecord<>("payments", "k", "paid")).get(20, TimeUnit.SECONDS);
            assertThat(meta.topic()).isEqualTo("payments");
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>("orders", "k", "order")).get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        List<L7Event> produce = events(producerProxy, e -> request(e, "produce", "payments") && e.verdict() == Verdict.FORWARDED);
        assertThat(produce).isNotEmpty().allSatisfy(e -> {
            assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED);
            assertThat(e.ingressRules()).isNotEmpty();
            assertThat(e.summary()).startsWith("Kafka request produce correlation id ").endsWith(" topic 'payments'");
        });
        assertThat(events(producerProxy, e -> request(e, "metadata", "orders")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
        assertThat(events(producerProxy, e -> e.isResponse() && e.layer7().getKafka().getTopic().equals("orders")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.layer7().getKafka().getErrorCode()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
        assertThat(events(producerProxy, e -> e.isResponse() && e.layer7().getKafka().getApiKey().equals("produce")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.layer7().getLatencyNs()).isPositive());
        // what reached the broker: payments got the record, orders nothing
        assertThat(readAll("payments")).contains("paid");
        assertThat(readAll("orders")).doesNotContain("order");
    }

    /**
     * A Produce naming an allowed and a denied topic: the allowed part is forwarded and the denied topic answered
     * in the same response, in its place among pipelined requests; a Produce of a denied topic only is answered by
     * the proxy alone.
     */
    @Test
    void mixedProduceIsAnsweredPerTopicInOrderAmongForwardedRequests() throws Exception {
        short v = ApiKeys.PRODUCE.latestVersion();
        try (RawKafkaClient c = new RawKafkaClient(producerProxy.address())) {
            c.send(new ApiVersionsRequest.Builder().build((short) 3), 1);
            assertThat(c.receive(ApiKeys.API_VERSIONS, (short) 3).correlationId()).isEqualTo(1);
            c.send(MetadataRequest.Builder.forTopicNames(List.of("payments"), false).build((short) 12), 2);
            MetadataResponse md = (MetadataResponse) c.receive(ApiKeys.METADATA, (short) 12).response();
            Uuid paymentsId = md.data().topics().find("payments").topicId();
            // pipelined: allowed metadata, produce to orders+payments (split), orders alone (denied), payments by topic ID
            c.send(MetadataRequest.Builder.forTopicNames(List.of("payments"), false).build((short) 12), 3);
            c.send(produce((short) 12, List.of("orders", "payments"), null), 4);
            c.send(produce((short) 12, List.of("orders"), null), 5);
            c.send(produce(v, List.of(), paymentsId), 6);
            RawKafkaClient.Answer a3 = c.receive(ApiKeys.METADATA, (short) 12);
            RawKafkaClient.Answer a4 = c.receive(ApiKeys.PRODUCE, (short) 12);
            RawKafkaClient.Answer a5 = c.receive(ApiKeys.PRODUCE, (short) 12);
            RawKafkaClient.Answer a6 = c.receive(ApiKeys.PRODUCE, v);
            assertThat(List.of(a3.correlationId(), a4.correlationId(), a5.correlationId(), a6.correlationId())).containsExactly(3, 4, 5, 6);
            Map<String, Short> codes = new java.util.HashMap<>();
            ((ProduceResponse) a4.response()).data().responses().forEach(t -> codes.put(t.name(), t.partitionResponses().getFirst().errorCode()));
            assertThat(codes).isEqualTo(Map.of("orders", Errors.TOPIC_AUTHORIZATION_FAILED.code(), "payments", Errors.NONE.code()));
            assertThat(((ProduceResponse) a5.response()).data().responses()).singleElement().satisfies(t ->
                    assertThat(t.partitionResponses()).allSatisfy(p -> assertThat(p.errorCode()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code())));
            assertThat(a6.response().errorCounts()).containsOnlyKeys(Errors.NONE);
        }
        assertThat(readAll("orders")).doesNotContain("raw");
        assertThat(events(producerProxy, e -> request(e, "produce", "orders"))).isNotEmpty()
                .allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
    }

    @Test
    void topicIdsNoMetadataNamedAreDenied() throws Exception {
        Uuid paymentsId;
        try (Admin a = broker.admin()) {
            paymentsId = a.describeTopics(List.of("payments")).allTopicNames().get().get("payments").topicId();
        }
        KafkaProxyProtocol fresh = new KafkaProxyProtocol();
        try (KafkaProxyHarness h = new KafkaProxyHarness(fresh, KafkaProxyHarness.connection(tracer, "messaging/producer", BROKER, 9092),
                () -> parse(broker.bootstrap()));
             RawKafkaClient c = new RawKafkaClient(h.address())) {
            short v = ApiKeys.PRODUCE.latestVersion();
            c.send(produce(v, List.of(), paymentsId), 1);
            ProduceResponse r = (ProduceResponse) c.receive(ApiKeys.PRODUCE, v).response();
            assertThat(r.errorCounts()).containsKey(Errors.UNKNOWN_TOPIC_ID);
            assertThat(h.events).anySatisfy(e -> {
                assertThat(e.verdict()).isEqualTo(Verdict.DROPPED);
                assertThat(e.layer7().getKafka().getTopic()).isEqualTo(paymentsId.toString());
            });
        }
    }

    static ProduceRequest produce(short version, List<String> names, Uuid id) {
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        List<ProduceRequestData.TopicProduceData> list = new ArrayList<>();
        for (String n : names) list.add(new ProduceRequestData.TopicProduceData().setName(n));
        if (id != null) list.add(new ProduceRequestData.TopicProduceData().setTopicId(id));
        for (ProduceRequestData.TopicProduceData t : list) {
            t.setPartitionData(List.of(new ProduceRequestData.PartitionProduceData().setIndex(0)
                    .setRecords(MemoryRecords.withRecords(Compression.NONE, new SimpleRecord("raw".getBytes(StandardCharsets.UTF_8))))));
            topics.add(t);
        }
        return new ProduceRequest.Builder(version, version, new ProduceRequestData().setAcks((short) 1).setTimeoutMs(10_000)
                .setTopicData(topics)).build(version);
    }

    static InetSocketAddress parse(String hostPort) {
        int i = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, i), Integer.parseInt(hostPort.substring(i + 1)));
    }

    List<String> readAll(String topic) {
        Properties p = consumerConfig(broker.bootstrap(), "reader-" + Uuid.randomUuid());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            var tp = new org.apache.kafka.common.TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (c.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    // ---- consumer -------------------------------------------------------------------------------------------

    @Test
    void consumerGroupFetchesPaymentsAndNotificationsButNoOtherTopicAndMayNotProduce() throws Exception {
        try (KafkaProducer<String, String> direct = new KafkaProducer<>(producerConfig(parse(broker.bootstrap())))) {
            direct.send(new ProducerRecord<>("payments", "c", "for-consumer-p")).get(20, TimeUnit.SECONDS);
            direct.send(new ProducerRecord<>("notifications", "c", "for-consumer-n")).get(20, TimeUnit.SECONDS);
            direct.send(new ProducerRecord<>("audit", "c", "secret")).get(20, TimeUnit.SECONDS);
        }
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerConfig(hostPort(consumerProxy.address()), "billing"))) {
            c.subscribe(List.of("payments", "notifications"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!seen.containsAll(Set.of("for-consumer-p", "for-consumer-n")) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) seen.add(r.value());
            }
            c.commitSync();
        }
        // the group again, from its committed offsets (which a current consumer validates before fetching)
        try (KafkaProducer<String, String> direct = new KafkaProducer<>(producerConfig(parse(broker.bootstrap())))) {
            direct.send(new ProducerRecord<>("payments", "c", "after-restart")).get(20, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerConfig(hostPort(consumerProxy.address()), "billing"))) {
            c.subscribe(List.of("payments", "notifications"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!seen.contains("after-restart") && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) seen.add(r.value());
            }
        }
        System.out.println("consumer: group consumed " + seen);
        assertThat(seen).contains("after-restart");
        assertThat(seen).contains("for-consumer-p", "for-consumer-n");
        assertThat(events(consumerProxy, e -> request(e, "fetch", "payments"))).isNotEmpty()
                .allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED));
        assertThat(events(consumerProxy, e -> request(e, "joingroup", ""))).isNotEmpty();
        // incremental fetches (KIP-227 sessions) name no topics: judged by their session's, never refused
        assertThat(events(consumerProxy, e -> request(e, "fetch", ""))).isNotEmpty()
                .allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED));
        assertThat(events(consumerProxy, e -> e.isResponse() && e.layer7().getKafka().getApiKey().equals("fetch")
                && e.layer7().getKafka().getErrorCode() == Errors.FETCH_SESSION_ID_NOT_FOUND.code())).isEmpty();
        assertThat(events(consumerProxy, e -> request(e, "offsetcommit", "payments"))).isNotEmpty();

        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerConfig(hostPort(consumerProxy.address()), "snoop"))) {
            c.subscribe(List.of("audit"));
            assertThatThrownBy(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) seen.add(r.value());
                }
            }).isInstanceOf(TopicAuthorizationException.class);
        }
        System.out.println("consumer: audit refused");
        assertThat(seen).doesNotContain("secret");

        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerConfig(consumerProxy.address()))) {
            assertThatThrownBy(() -> p.send(new ProducerRecord<>("payments", "c", "from-consumer")).get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        assertThat(events(consumerProxy, e -> request(e, "produce", "payments")))
                .isNotEmpty().allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
    }

    // ---- metadata for all topics ----------------------------------------------------------------------------

    @Test
    void metadataForAllTopicsShowsOnlyWhatTheRulesAllow() throws Exception {
        assertThat(listTopics(broker.bootstrap())).contains("payments", "notifications", "orders", "audit");
        assertThat(listTopics(hostPort(producerProxy.address()))).containsExactly("payments");
        assertThat(listTopics(hostPort(consumerProxy.address()))).containsExactlyInAnyOrder("payments", "notifications");
    }

    static Set<String> listTopics(String bootstrap) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (Admin a = Admin.create(p)) {
            return new HashSet<>(a.listTopics().names().get(20, TimeUnit.SECONDS));
        }
    }

    // ---- bad input ------------------------------------------------------------------------------------------

    @Test
    void badInputClosesThatConnectionOnly() throws Exception {
        try (KafkaProducer<String, String> live = new KafkaProducer<>(producerConfig(producerProxy.address()))) {
            live.send(new ProducerRecord<>("payments", "k", "before")).get(20, TimeUnit.SECONDS);
            int errorsBefore = events(producerProxy, e -> e.verdict() == Verdict.ERROR).size();
            Map<String, byte[]> cases = Map.of(
                    "2 GB length", new byte[] {(byte) 0x80, 0, 0, 0, 0, 1, 2, 3},
                    "beyond the frame bound", ByteBuffer.allocate(8).putInt(KafkaProxyProtocol.DEFAULT_MAX_REQUEST_BYTES + 1).array(),
                    "truncated header", new byte[] {0, 0, 0, 5, 0, 0, 0, 9, 0},
                    "truncated body", truncatedProduce(),
                    "unknown api key", ByteBuffer.allocate(16).putInt(12).putShort((short) 999).putShort((short) 0).putInt(7).putShort((short) -1).array(),
                    "garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                    "garbage in a frame", ByteBuffer.allocate(24).putInt(20).putLong(0x7f7f7f7f7f7f7f7fL).putLong(-1L).putInt(42).array());
            for (Map.Entry<String, byte[]> c : cases.entrySet()) {
                try (RawKafkaClient raw = new RawKafkaClient(producerProxy.address())) {
                    raw.sendRaw(c.getValue());
                    assertThat(raw.closedByPeer()).as(c.getKey()).isTrue();
                }
            }
            assertThat(events(producerProxy, e -> e.verdict() == Verdict.ERROR).size() - errorsBefore)
                    .isGreaterThanOrEqualTo(cases.size() - 1); // plain HTTP text is a too-long frame: one ERROR too
            live.send(new ProducerRecord<>("payments", "k", "after")).get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientStoppingMidFrameIsCutOffButAnIdleOrSlowOneIsNot() throws Exception {
        KafkaProxyProtocol impatient = new KafkaProxyProtocol(KafkaProxyProtocol.DEFAULT_MAX_REQUEST_BYTES,
                KafkaProxyProtocol.DEFAULT_MAX_RESPONSE_BYTES, Duration.ofMillis(600));
        String[] direct = broker.bootstrap().split(":");
        try (KafkaProxyHarness h = new KafkaProxyHarness(impatient, KafkaProxyHarness.connection(tracer, "messaging/producer", BROKER, 9092),
                () -> new InetSocketAddress(direct[0], Integer.parseInt(direct[1])))) {
            byte[] metadata = frame(MetadataRequest.Builder.forTopicNames(List.of("payments"), false).build((short) 12), 1);
            Map<String, byte[]> stalls = Map.of(
                    "half a length prefix", new byte[] {0, 0},
                    "a prefix and part of the frame", java.util.Arrays.copyOf(metadata, metadata.length - 3));
            for (Map.Entry<String, byte[]> c : stalls.entrySet()) {
                try (RawKafkaClient raw = new RawKafkaClient(h.address())) {
                    long start = System.nanoTime();
                    raw.sendRaw(c.getValue());
                    assertThat(raw.closedByPeer()).as(c.getKey()).isTrue();
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).as(c.getKey()).isBetween(Duration.ofMillis(500), Duration.ofSeconds(5));
                }
            }
            assertThat(events(h, e -> e.verdict() == Verdict.ERROR)).hasSize(2);
            try (RawKafkaClient raw = new RawKafkaClient(h.address())) {
                Thread.sleep(1500); // idle between frames: not a stall
                for (byte b : metadata) { // one byte at a time, each well within the stall bound, 1.5 s in all
                    raw.sendRaw(new byte[] {b});
                    Thread.sleep(1500 / metadata.length + 1);
                }
                assertThat(raw.receive(ApiKeys.METADATA, (short) 12).correlationId()).isEqualTo(1);
            }
        }
    }

    static byte[] frame(org.apache.kafka.common.requests.AbstractRequest request, int correlationId) {
        short v = request.version();
        org.apache.kafka.common.message.RequestHeaderData h = new org.apache.kafka.common.message.RequestHeaderData()
                .setRequestApiKey(request.apiKey().id).setRequestApiVersion(v).setCorrelationId(correlationId).setClientId("raw-test");
        ByteBuffer b = org.apache.kafka.common.requests.RequestUtils.serialize(h, request.apiKey().requestHeaderVersion(v), request.data(), v);
        return ByteBuffer.allocate(4 + b.remaining()).putInt(b.remaining()).put(b).array();
    }

    static byte[] truncatedProduce() {
        short v = 12;
        org.apache.kafka.common.message.RequestHeaderData h = new org.apache.kafka.common.message.RequestHeaderData()
                .setRequestApiKey(ApiKeys.PRODUCE.id).setRequestApiVersion(v).setCorrelationId(9).setClientId("bad");
        ByteBuffer b = org.apache.kafka.common.requests.RequestUtils.serialize(h, ApiKeys.PRODUCE.requestHeaderVersion(v),
                produce((short) 12, List.of("payments"), null).data(), (short) 12);
        int keep = b.remaining() - 20;
        return ByteBuffer.allocate(4 + keep).putInt(keep).put(b.array(), b.arrayOffset(), keep).array();
    }
}
