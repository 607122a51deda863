package dev.sieve.proxy.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.ListOffsetsResponse;
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
 * Per-topic answers: a Produce or Fetch naming an allowed topic ({@code payments}) and a denied one ({@code orders},
 * two partitions) is forwarded with the allowed part, and the client gets the broker's answer for it and
 * {@code TOPIC_AUTHORIZATION_FAILED} for the other in the same response, as from the broker's own authorizer. Real
 * KRaft broker, real kafka-clients, the policy {@code kafka-partial-answers-policy.yaml} (every topic may be
 * described, only payments produced and consumed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaPartialAnswersTest {

    static final String BROKER = "messaging/kafka-broker";
    static final short TAF = Errors.TOPIC_AUTHORIZATION_FAILED.code();

    KafkaBroker broker;
    KafkaProxyHarness producerProxy;
    KafkaProxyHarness consumerProxy;

    @BeforeAll
    void start() throws Exception {
        Path policy = Path.of(KafkaPartialAnswersTest.class.getResource("/kafka-partial-answers-policy.yaml").toURI());
        Tracer tracer = KafkaProxyHarness.tracer(Path.of("../examples").toAbsolutePath().normalize(), policy.toString());
        KafkaProxyProtocol protocol = new KafkaProxyProtocol();
        int producerListener = KafkaBroker.freePort(), consumerListener = KafkaBroker.freePort();
        producerProxy = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/producer", BROKER, 9092),
                () -> new InetSocketAddress("127.0.0.1", producerListener));
        consumerProxy = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/consumer", BROKER, 9092),
                () -> new InetSocketAddress("127.0.0.1", consumerListener));
        broker = KafkaBroker.start("127.0.0.1", 0, List.of(
                new KafkaBroker.Listener("PRODUCERS", producerListener, producerProxy.address()),
                new KafkaBroker.Listener("CONSUMERS", consumerListener, consumerProxy.address())));
        try (Admin a = broker.admin()) {
            a.createTopics(List.of(new NewTopic("payments", 1, (short) 1), new NewTopic("orders", 2, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> direct = new KafkaProducer<>(KafkaProxyTest.producerConfig(KafkaProxyTest.parse(broker.bootstrap())))) {
            direct.send(new ProducerRecord<>("payments", 0, "s", "first")).get(20, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    void stop() {
        if (producerProxy != null) producerProxy.close();
        if (consumerProxy != null) consumerProxy.close();
        if (broker != null) broker.close();
    }

    // ---- kafka-clients --------------------------------------------------------------------------------------

    /** One Produce request for both topics: payments is acknowledged, orders fails with TopicAuthorizationException. */
    @Test
    void aProducerBatchToPaymentsAndOrdersIsAckedForPaymentsAndRefusedForOrders() throws Exception {
        int before = producerProxy.events.size();
        Properties config = KafkaProxyTest.producerConfig(producerProxy.address());
        config.put(ProducerConfig.LINGER_MS_CONFIG, "300"); // both records leave in one request
        config.put(ProducerConfig.RETRIES_CONFIG, "0");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            producer.partitionsFor("payments");
            producer.partitionsFor("orders");
            Future<RecordMetadata> paid = producer.send(new ProducerRecord<>("payments", 0, "k", "batch-paid"));
            Future<RecordMetadata> ordered = producer.send(new ProducerRecord<>("orders", 0, "k", "batch-order"));
            producer.flush();
            assertThat(paid.get(20, TimeUnit.SECONDS).topic()).isEqualTo("payments");
            assertThatThrownBy(() -> ordered.get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
        // one request: its flows, one per topic, share a correlation id, payments FORWARDED and orders DROPPED
        List<L7Event> mine = producerProxy.events.stream().skip(before).toList();
        List<L7Event> orderRequests = mine.stream().filter(e -> request(e, "produce", "orders")).toList();
        assertThat(orderRequests).hasSize(1);
        L7Event orders = orderRequests.getFirst();
        assertThat(orders.verdict()).isEqualTo(Verdict.DROPPED);
        int correlation = orders.layer7().getKafka().getCorrelationId();
        assertThat(mine.stream().filter(e -> request(e, "produce", "payments") && correlation(e) == correlation))
                .singleElement().satisfies(e -> {
                    assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED);
                    assertThat(e.ingressRules()).isNotEmpty();
                });
        // its response: payments with the broker's code, orders refused by the proxy
        assertThat(mine.stream().filter(e -> response(e, "produce", "payments") && correlation(e) == correlation))
                .singleElement().satisfies(e -> {
                    assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED);
                    assertThat(e.layer7().getKafka().getErrorCode()).isZero();
                });
        assertThat(mine.stream().filter(e -> response(e, "produce", "orders") && correlation(e) == correlation))
                .singleElement().satisfies(e -> assertThat(e.layer7().getKafka().getErrorCode()).isEqualTo(TAF));
        assertThat(readAll("payments")).contains("batch-paid");
        assertThat(readAll("orders")).doesNotContain("batch-order");
    }

    @Test
    void acksZeroForwardsThePaymentsPartAndQueuesNoAnswer() throws Exception {
        int before = producerProxy.events.size();
        Properties config = KafkaProxyTest.producerConfig(producerProxy.address());
        config.put(ProducerConfig.ACKS_CONFIG, "0");
        config.put(ProducerConfig.LINGER_MS_CONFIG, "300");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            producer.partitionsFor("orders");
            producer.send(new ProducerRecord<>("payments", 0, "k", "acks0-paid"));
            producer.send(new ProducerRecord<>("orders", 0, "k", "acks0-order"));
            producer.flush();
            // the connection goes on: a later record with acks=0 is delivered too
            producer.send(new ProducerRecord<>("payments", 0, "k", "acks0-after")).get(20, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<String> paid = readAll("payments");
        while (!paid.contains("acks0-after") && System.nanoTime() < deadline) paid = readAll("payments");
        assertThat(paid).contains("acks0-paid", "acks0-after");
        assertThat(readAll("orders")).doesNotContain("acks0-order");

        // raw: the next answer on the connection is the next request's (nothing was queued for the Produce)
        try (RawKafkaClient c = new RawKafkaClient(producerProxy.address())) {
            for (short v : new short[] {3, 9, ApiKeys.PRODUCE.latestVersion()}) {
                Map<String, Uuid> ids = describe(c, 1);
                c.send(produce(v, (short) 0, ids, "raw-acks0-v" + v), 2);
                c.send(MetadataRequest.Builder.forTopicNames(List.of("payments"), false).build((short) 12), 3);
                assertThat(c.receive(ApiKeys.METADATA, (short) 12).correlationId()).as("v" + v).isEqualTo(3);
            }
        }
        List<L7Event> mine = producerProxy.events.stream().skip(before).toList();
        assertThat(mine.stream().filter(e -> request(e, "produce", "orders"))).isNotEmpty()
                .allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
        assertThat(mine.stream().filter(e -> e.isResponse() && e.layer7().getKafka().getApiKey().equals("produce"))).isEmpty();
    }

    /** A consumer assigned payments and orders: payments' records arrive, orders' partition raises the error. */
    @Test
    void aConsumerOfPaymentsAndOrdersGetsPaymentsRecordsAndTheAuthorizationErrorForOrders() throws Exception {
        try (KafkaProducer<String, String> direct = new KafkaProducer<>(KafkaProxyTest.producerConfig(KafkaProxyTest.parse(broker.bootstrap())))) {
            direct.send(new ProducerRecord<>("payments", 0, "c", "for-consumer")).get(20, TimeUnit.SECONDS);
            direct.send(new ProducerRecord<>("orders", 0, "c", "secret-order")).get(20, TimeUnit.SECONDS);
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaProxyTest.hostPort(consumerProxy.address()));
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        List<String> values = new ArrayList<>();
        List<TopicAuthorizationException> refusals = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            TopicPartition payments = new TopicPartition("payments", 0), orders = new TopicPartition("orders", 0);
            c.assign(List.of(payments, orders));
            c.seek(payments, 0); // positions without a lookup: both partitions go into the same Fetch requests
            c.seek(orders, 0);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((!values.contains("for-consumer") || refusals.size() < 2) && System.nanoTime() < deadline) {
                try {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(300))) values.add(r.value());
                } catch (TopicAuthorizationException e) {
                    refusals.add(e);
                }
            }
        }
        assertThat(values).contains("for-consumer").doesNotContain("secret-order");
        // the error again on a later poll: the denied partition stays in the fetch session and is answered each time
        assertThat(refusals).hasSizeGreaterThanOrEqualTo(2).allSatisfy(e -> assertThat(e.unauthorizedTopics()).containsExactly("orders"));
        assertThat(events(consumerProxy, e -> request(e, "fetch", "orders"))).isNotEmpty()
                .allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
        L7Event fetchOrders = events(consumerProxy, e -> request(e, "fetch", "orders")).getFirst();
        assertThat(events(consumerProxy, e -> request(e, "fetch", "payments") && correlation(e) == correlation(fetchOrders)))
                .singleElement().satisfies(e -> assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED));
        // incremental fetches (no topics named) went on in the session without FETCH_SESSION errors
        assertThat(events(consumerProxy, e -> e.isResponse() && e.layer7().getKafka().getApiKey().equals("fetch")
                && (e.layer7().getKafka().getErrorCode() == Errors.INVALID_FETCH_SESSION_EPOCH.code()
                    || e.layer7().getKafka().getErrorCode() == Errors.FETCH_SESSION_ID_NOT_FOUND.code()))).isEmpty();
    }

    // ---- raw requests ---------------------------------------------------------------------------------------

    @Test
    void mergedProduceResponsesOfV3V9AndTheNewestVersion() throws Exception {
        try (RawKafkaClient c = new RawKafkaClient(producerProxy.address())) {
            Map<String, Uuid> ids = describe(c, 1);
            int correlation = 10;
            for (short v : new short[] {3, 9, ApiKeys.PRODUCE.latestVersion()}) {
                // pipelined behind a Metadata request and ahead of another: answers in correlation order
                c.send(MetadataRequest.Builder.forTopicNames(List.of("payments"), false).build((short) 12), correlation);
                c.send(produce(v, (short) 1, ids, "raw-v" + v), correlation + 1);
                c.send(MetadataRequest.Builder.forTopicNames(List.of("orders"), false).build((short) 12), correlation + 2);
                assertThat(c.receive(ApiKeys.METADATA, (short) 12).correlationId()).isEqualTo(correlation);
                RawKafkaClient.Answer a = c.receive(ApiKeys.PRODUCE, v);
                assertThat(a.correlationId()).isEqualTo(correlation + 1);
                assertThat(c.receive(ApiKeys.METADATA, (short) 12).correlationId()).isEqualTo(correlation + 2);

                ProduceResponseData r = ((ProduceResponse) a.response()).data();
                Map<String, Map<Integer, Short>> codes = new HashMap<>();
                for (ProduceResponseData.TopicProduceResponse t : r.responses()) {
                    String name = v >= 13 ? nameOf(ids, t.topicId()) : t.name();
                    for (ProduceResponseData.PartitionProduceResponse pr : t.partitionResponses()) {
                        codes.computeIfAbsent(name, k -> new HashMap<>()).put(pr.index(), pr.errorCode());
                    }
                }
                assertThat(codes).as("v" + v).isEqualTo(Map.of("payments", Map.of(0, (short) 0), "orders", Map.of(0, TAF, 1, TAF)));
                assertThat(r.responses().stream().filter(t -> v >= 13 ? t.topicId().equals(ids.get("payments")) : t.name().equals("payments"))
                        .findFirst().orElseThrow().partitionResponses().getFirst().baseOffset()).as("v" + v).isNotNegative();
                correlation += 3;
            }
        }
        assertThat(readAll("payments")).contains("raw-v3", "raw-v9", "raw-v" + ApiKeys.PRODUCE.latestVersion());
        assertThat(readAll("orders")).noneMatch(s -> s.startsWith("raw-v"));
    }

    @Test
    void fetchWithoutASession() throws Exception {
        try (RawKafkaClient c = new RawKafkaClient(consumerProxy.address())) {
            Map<String, Uuid> ids = describe(c, 1);
            for (short v : new short[] {4, 12, ApiKeys.FETCH.latestVersion()}) {
                FetchResponseData r = fetch(c, v, ids, 0, -1, List.of("payments", "orders"), List.of(), 100 + v);
                assertThat(r.errorCode()).isZero();
                assertThat(r.sessionId()).isZero();
                assertThat(partitionCodes(r, ids, v)).as("v" + v).isEqualTo(Map.of("payments-0", (short) 0, "orders-0", TAF, "orders-1", TAF));
                assertThat(records(r, ids, v, "payments")).as("v" + v).isPositive();
                // only denied topics: answered by the proxy per partition, no session
                FetchResponseData denied = fetch(c, v, ids, 0, -1, List.of("orders"), List.of(), 200 + v);
                assertThat(denied.errorCode()).isZero();
                assertThat(partitionCodes(denied, ids, v)).as("v" + v).isEqualTo(Map.of("orders-0", TAF, "orders-1", TAF));
            }
        }
    }

    @Test
    void fetchWithASession() throws Exception {
        try (RawKafkaClient c = new RawKafkaClient(consumerProxy.address())) {
            Map<String, Uuid> ids = describe(c, 1);
            for (short v : new short[] {7, 12, ApiKeys.FETCH.latestVersion()}) {
                String at = "v" + v;
                // a new session with both topics: the broker's has payments only
                FetchResponseData full = fetch(c, v, ids, 0, 0, List.of("payments", "orders"), List.of(), 10);
                assertThat(full.errorCode()).as(at).isZero();
                int session = full.sessionId();
                assertThat(session).as(at).isNotZero();
                assertThat(partitionCodes(full, ids, v)).as(at).isEqualTo(Map.of("payments-0", (short) 0, "orders-0", TAF, "orders-1", TAF));
                // incremental, nothing changed: the broker's epoch advanced with the client's, orders answered again
                FetchResponseData next = fetch(c, v, ids, session, 1, List.of(), List.of(), 11);
                assertThat(next.errorCode()).as(at).isZero();
                assertThat(partitionCodes(next, ids, v)).as(at).containsEntry("orders-0", TAF).containsEntry("orders-1", TAF);
                // the client forgets orders-0: it leaves the answers; the broker never heard of it
                FetchResponseData forgot = fetch(c, v, ids, session, 2, List.of(), List.of("orders"), 12);
                assertThat(forgot.errorCode()).as(at).isZero();
                assertThat(partitionCodes(forgot, ids, v)).as(at).doesNotContainKey("orders-0").containsEntry("orders-1", TAF);
                // new records of payments reach the session
                try (KafkaProducer<String, String> direct = new KafkaProducer<>(KafkaProxyTest.producerConfig(KafkaProxyTest.parse(broker.bootstrap())))) {
                    direct.send(new ProducerRecord<>("payments", 0, "s", "session-" + v)).get(20, TimeUnit.SECONDS);
                }
                FetchResponseData more = fetch(c, v, ids, session, 3, List.of(), List.of(), 13);
                assertThat(more.errorCode()).as(at).isZero();
                assertThat(partitionCodes(more, ids, v)).as(at).containsEntry("payments-0", (short) 0).containsEntry("orders-1", TAF)
                        .doesNotContainKey("orders-0");
                assertThat(records(more, ids, v, "payments")).as(at).isPositive();
                // closing the session (epoch -1)
                FetchResponseData closed = fetch(c, v, ids, session, -1, List.of(), List.of(), 14);
                assertThat(closed.errorCode()).as(at).isZero();
            }
        }
        assertThat(events(consumerProxy, e -> request(e, "fetch", "orders"))).allSatisfy(e -> assertThat(e.verdict()).isEqualTo(Verdict.DROPPED));
    }

    /** The same table serves the other per-topic APIs: ListOffsets of payments and orders, at the oldest and newest version. */
    @Test
    void listOffsetsIsAnsweredPerTopic() throws Exception {
        try (RawKafkaClient c = new RawKafkaClient(consumerProxy.address())) {
            for (short v : new short[] {ApiKeys.LIST_OFFSETS.oldestVersion(), ApiKeys.LIST_OFFSETS.latestVersion()}) {
                List<ListOffsetsRequestData.ListOffsetsTopic> topics = new ArrayList<>();
                for (String t : List.of("payments", "orders")) {
                    List<ListOffsetsRequestData.ListOffsetsPartition> parts = new ArrayList<>();
                    for (int p = 0; p < (t.equals("orders") ? 2 : 1); p++) {
                        parts.add(new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(p)
                                .setTimestamp(ListOffsetsRequest.LATEST_TIMESTAMP));
                    }
                    topics.add(new ListOffsetsRequestData.ListOffsetsTopic().setName(t).setPartitions(parts));
                }
                ListOffsetsRequestData data = new ListOffsetsRequestData().setReplicaId(-1).setTopics(topics);
                c.send(ListOffsetsRequest.parse(org.apache.kafka.common.protocol.MessageUtil.toByteBufferAccessor(data, v), v), 30 + v);
                RawKafkaClient.Answer a = c.receive(ApiKeys.LIST_OFFSETS, v);
                assertThat(a.correlationId()).isEqualTo(30 + v);
                Map<String, Short> codes = new HashMap<>();
                ((ListOffsetsResponse) a.response()).data().topics().forEach(t -> t.partitions().forEach(p ->
                        codes.put(t.name() + "-" + p.partitionIndex(), p.errorCode())));
                assertThat(codes).as("v" + v).isEqualTo(Map.of("payments-0", (short) 0, "orders-0", TAF, "orders-1", TAF));
            }
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    /** Metadata through the proxy (which learns the topic IDs from it). */
    static Map<String, Uuid> describe(RawKafkaClient c, int correlation) throws Exception {
        c.send(MetadataRequest.Builder.forTopicNames(List.of("payments", "orders"), false).build((short) 12), correlation);
        MetadataResponse md = (MetadataResponse) c.receive(ApiKeys.METADATA, (short) 12).response();
        Map<String, Uuid> ids = new HashMap<>();
        md.data().topics().forEach(t -> ids.put(t.name(), t.topicId()));
        assertThat(ids).containsOnlyKeys("payments", "orders");
        return ids;
    }

    static String nameOf(Map<String, Uuid> ids, Uuid id) {
        return ids.entrySet().stream().filter(e -> e.getValue().equals(id)).map(Map.Entry::getKey).findFirst().orElse(id.toString());
    }

    /** Produce of one record to payments-0 and orders-0 and -1 (names, or topic IDs from v13). */
    static ProduceRequest produce(short version, short acks, Map<String, Uuid> ids, String value) {
        var topics = new ProduceRequestData.TopicProduceDataCollection();
        for (String t : List.of("payments", "orders")) {
            List<ProduceRequestData.PartitionProduceData> parts = new ArrayList<>();
            for (int p = 0; p < (t.equals("orders") ? 2 : 1); p++) {
                parts.add(new ProduceRequestData.PartitionProduceData().setIndex(p).setRecords(MemoryRecords.withRecords(
                        RecordBatch.CURRENT_MAGIC_VALUE, Compression.NONE, new SimpleRecord(value.getBytes(StandardCharsets.UTF_8)))));
            }
            var data = new ProduceRequestData.TopicProduceData().setPartitionData(parts);
            if (version >= 13) data.setTopicId(ids.get(t));
            else data.setName(t);
            topics.add(data);
        }
        return new ProduceRequest.Builder(version, version, new ProduceRequestData().setAcks(acks).setTimeoutMs(10_000)
                .setTopicData(topics)).build(version);
    }

    static FetchResponseData fetch(RawKafkaClient c, short version, Map<String, Uuid> ids, int session, int epoch,
                                   List<String> topics, List<String> forgetPartitionZeroOf, int correlation) throws Exception {
        List<FetchRequestData.FetchTopic> fetchTopics = new ArrayList<>();
        for (String t : topics) {
            List<FetchRequestData.FetchPartition> parts = new ArrayList<>();
            for (int p = 0; p < (t.equals("orders") ? 2 : 1); p++) {
                parts.add(new FetchRequestData.FetchPartition().setPartition(p).setFetchOffset(0).setPartitionMaxBytes(1 << 20));
            }
            fetchTopics.add(new FetchRequestData.FetchTopic().setTopic(version < 13 ? t : "").setTopicId(version >= 13 ? ids.get(t) : Uuid.ZERO_UUID)
                    .setPartitions(parts));
        }
        List<FetchRequestData.ForgottenTopic> forgotten = new ArrayList<>();
        for (String t : forgetPartitionZeroOf) {
            forgotten.add(new FetchRequestData.ForgottenTopic().setTopic(version < 13 ? t : "")
                    .setTopicId(version >= 13 ? ids.get(t) : Uuid.ZERO_UUID).setPartitions(new ArrayList<>(List.of(0))));
        }
        FetchRequestData data = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(50).setMinBytes(0).setMaxBytes(1 << 20)
                .setSessionId(session).setSessionEpoch(epoch).setTopics(fetchTopics).setForgottenTopicsData(forgotten);
        c.send(new FetchRequest(data, version), correlation);
        RawKafkaClient.Answer a = c.receive(ApiKeys.FETCH, version);
        assertThat(a.correlationId()).isEqualTo(correlation);
        return ((FetchResponse) a.response()).data();
    }

    static Map<String, Short> partitionCodes(FetchResponseData r, Map<String, Uuid> ids, short version) {
        Map<String, Short> out = new HashMap<>();
        for (FetchResponseData.FetchableTopicResponse t : r.responses()) {
            String name = version >= 13 ? nameOf(ids, t.topicId()) : t.topic();
            for (FetchResponseData.PartitionData p : t.partitions()) {
                out.put(name + "-" + p.partitionIndex(), p.errorCode());
            }
        }
        return out;
    }

    static int records(FetchResponseData r, Map<String, Uuid> ids, short version, String topic) {
        int n = 0;
        for (FetchResponseData.FetchableTopicResponse t : r.responses()) {
            String name = version >= 13 ? nameOf(ids, t.topicId()) : t.topic();
            if (!name.equals(topic)) continue;
            for (FetchResponseData.PartitionData p : t.partitions()) {
                if (p.records() instanceof MemoryRecords m) for (var b : m.batches()) for (var ignored : b) n++;
            }
        }
        return n;
    }

    List<String> readAll(String topic) {
        Properties p = KafkaProxyTest.consumerConfig(broker.bootstrap(), "reader-" + Uuid.randomUuid());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) values.add(r.value());
            }
        }
        return values;
    }

    static List<L7Event> events(KafkaProxyHarness h, Predicate<L7Event> p) {
        return h.events.stream().filter(p).toList();
    }

    static int correlation(L7Event e) {
        return e.layer7().getKafka().getCorrelationId();
    }

    static boolean request(L7Event e, String apiKey, String topic) {
        return e.layer7().getType() == L7FlowType.REQUEST && e.layer7().getKafka().getApiKey().equals(apiKey)
                && e.layer7().getKafka().getTopic().equals(topic);
    }

    static boolean response(L7Event e, String apiKey, String topic) {
        return e.layer7().getType() == L7FlowType.RESPONSE && e.layer7().getKafka().getApiKey().equals(apiKey)
                && e.layer7().getKafka().getTopic().equals(topic);
    }
}
