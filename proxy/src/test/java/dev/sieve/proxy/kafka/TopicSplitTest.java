package dev.sieve.proxy.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.proxy.kafka.TopicSplit.TopicRef;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteRecordsResponseData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DeleteTopicsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.ListOffsetsResponseData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetCommitResponseData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.junit.jupiter.api.Test;

/**
 * The split/merge table, for every version kafka-clients knows of each API: a request naming an allowed topic
 * ({@code payments}) and a denied one ({@code orders}) is forwarded with {@code payments} only, and the broker's
 * answer gains the API's own {@code TOPIC_AUTHORIZATION_FAILED} entries for {@code orders}, which kafka-clients
 * parses back at that version.
 */
class TopicSplitTest {

    static final Uuid PAYMENTS = Uuid.randomUuid();
    static final Uuid ORDERS = Uuid.randomUuid();

    /** Each API: a request of both topics (names and IDs both set; each version writes what it has). */
    static final Map<ApiKeys, Function<Short, ApiMessage>> REQUESTS = Map.ofEntries(
            Map.entry(ApiKeys.PRODUCE, v -> {
                var topics = new ProduceRequestData.TopicProduceDataCollection();
                for (String t : List.of("payments", "orders")) {
                    topics.add(new ProduceRequestData.TopicProduceData().setName(t).setTopicId(id(t)).setPartitionData(List.of(
                            new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(MemoryRecords.withRecords(
                                    v < 3 ? org.apache.kafka.common.record.internal.RecordBatch.MAGIC_VALUE_V1 : org.apache.kafka.common.record.internal.RecordBatch.CURRENT_MAGIC_VALUE,
                                    Compression.NONE, new SimpleRecord("x".getBytes(StandardCharsets.UTF_8)))))));
                }
                return new ProduceRequestData().setAcks((short) 1).setTimeoutMs(1000).setTopicData(topics);
            }),
            Map.entry(ApiKeys.FETCH, v -> {
                List<FetchRequestData.FetchTopic> topics = new ArrayList<>();
                for (String t : List.of("payments", "orders")) {
                    topics.add(new FetchRequestData.FetchTopic().setTopic(t).setTopicId(id(t)).setPartitions(List.of(
                            new FetchRequestData.FetchPartition().setPartition(0), new FetchRequestData.FetchPartition().setPartition(1))));
                }
                return new FetchRequestData().setReplicaId(-1).setMaxWaitMs(100).setTopics(topics);
            }),
            Map.entry(ApiKeys.LIST_OFFSETS, v -> new ListOffsetsRequestData().setReplicaId(-1).setTopics(List.of(
                    new ListOffsetsRequestData.ListOffsetsTopic().setName("payments").setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition())),
                    new ListOffsetsRequestData.ListOffsetsTopic().setName("orders").setPartitions(List.of(new ListOffsetsRequestData.ListOffsetsPartition()))))),
            Map.entry(ApiKeys.METADATA, v -> new MetadataRequestData().setTopics(List.of(
                    new MetadataRequestData.MetadataRequestTopic().setName("payments"),
                    new MetadataRequestData.MetadataRequestTopic().setName("orders")))),
            Map.entry(ApiKeys.OFFSET_COMMIT, v -> new OffsetCommitRequestData().setGroupId("g").setTopics(List.of(
                    new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("payments").setTopicId(PAYMENTS)
                            .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setCommittedOffset(5))),
                    new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("orders").setTopicId(ORDERS)
                            .setPartitions(List.of(new OffsetCommitRequestData.OffsetCommitRequestPartition().setCommittedOffset(5)))))),
            Map.entry(ApiKeys.OFFSET_FETCH, v -> v < 8
                    ? new OffsetFetchRequestData().setGroupId("g").setTopics(List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("payments").setPartitionIndexes(List.of(0)),
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("orders").setPartitionIndexes(List.of(0))))
                    : new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g")
                            .setTopics(List.of(
                                    new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("payments").setTopicId(PAYMENTS).setPartitionIndexes(List.of(0)),
                                    new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("orders").setTopicId(ORDERS).setPartitionIndexes(List.of(0))))))),
            Map.entry(ApiKeys.CREATE_TOPICS, v -> {
                var topics = new CreateTopicsRequestData.CreatableTopicCollection();
                topics.add(new CreateTopicsRequestData.CreatableTopic().setName("payments").setNumPartitions(1).setReplicationFactor((short) 1));
                topics.add(new CreateTopicsRequestData.CreatableTopic().setName("orders").setNumPartitions(1).setReplicationFactor((short) 1));
                return new CreateTopicsRequestData().setTopics(topics);
            }),
            Map.entry(ApiKeys.DELETE_TOPICS, v -> v < 6
                    ? new DeleteTopicsRequestData().setTopicNames(List.of("payments", "orders"))
                    : new DeleteTopicsRequestData().setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName("payments"),
                            new DeleteTopicsRequestData.DeleteTopicState().setName("orders")))),
            Map.entry(ApiKeys.DELETE_RECORDS, v -> new DeleteRecordsRequestData().setTopics(List.of(
                    new DeleteRecordsRequestData.DeleteRecordsTopic().setName("payments").setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition())),
                    new DeleteRecordsRequestData.DeleteRecordsTopic().setName("orders").setPartitions(List.of(new DeleteRecordsRequestData.DeleteRecordsPartition()))))),
            Map.entry(ApiKeys.OFFSET_FOR_LEADER_EPOCH, v -> {
                var topics = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection();
                for (String t : List.of("payments", "orders")) {
                    topics.add(new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(t)
                            .setPartitions(List.of(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition().setLeaderEpoch(1))));
                }
                return new OffsetForLeaderEpochRequestData().setReplicaId(-1).setTopics(topics);
            }),
            Map.entry(ApiKeys.TXN_OFFSET_COMMIT, v -> new TxnOffsetCommitRequestData().setTransactionalId("t").setGroupId("g").setTopics(List.of(
                    new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("payments")
                            .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition())),
                    new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("orders")
                            .setPartitions(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()))))));

    /** What the broker answers for the allowed part: an empty response of the API (payments' entries do not matter). */
    static final Map<ApiKeys, Function<Short, ApiMessage>> EMPTY_RESPONSES = Map.ofEntries(
            Map.entry(ApiKeys.PRODUCE, v -> new ProduceResponseData()),
            Map.entry(ApiKeys.FETCH, v -> new FetchResponseData()),
            Map.entry(ApiKeys.LIST_OFFSETS, v -> new ListOffsetsResponseData()),
            Map.entry(ApiKeys.METADATA, v -> new MetadataResponseData()),
            Map.entry(ApiKeys.OFFSET_COMMIT, v -> new OffsetCommitResponseData()),
            Map.entry(ApiKeys.OFFSET_FETCH, v -> v < 8 ? new OffsetFetchResponseData()
                    : new OffsetFetchResponseData().setGroups(List.of(new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId("g")))),
            Map.entry(ApiKeys.CREATE_TOPICS, v -> new CreateTopicsResponseData()),
            Map.entry(ApiKeys.DELETE_TOPICS, v -> new DeleteTopicsResponseData()),
            Map.entry(ApiKeys.DELETE_RECORDS, v -> new DeleteRecordsResponseData()),
            Map.entry(ApiKeys.OFFSET_FOR_LEADER_EPOCH, v -> new OffsetForLeaderEpochResponseData()),
            Map.entry(ApiKeys.TXN_OFFSET_COMMIT, v -> new TxnOffsetCommitResponseData()));

    static Uuid id(String topic) {
        return topic.equals("payments") ? PAYMENTS : ORDERS;
    }

    static boolean isOrders(TopicRef t) {
        return "orders".equals(t.name()) || ORDERS.equals(t.id());
    }

    @Test
    void everyVersionOfEverySplitApiKeepsTheAllowedTopicAndAnswersTheDeniedOne() {
        int checked = 0;
        for (Map.Entry<ApiKeys, Function<Short, ApiMessage>> e : REQUESTS.entrySet()) {
            ApiKeys api = e.getKey();
            for (short v = api.oldestVersion(); v <= api.latestVersion(true); v++) {
                String where = api + " v" + v;
                AbstractRequest request = RequestTopicsTest.parse(api, v, e.getValue().apply(v));
                assertThat(TopicSplit.splits(request)).as(where).isTrue();
                assertThat(TopicSplit.topics(request)).as(where).hasSize(2);
                Predicate<TopicRef> denied = TopicSplitTest::isOrders;

                ApiMessage forwarded = TopicSplit.without(request, denied);
                AbstractRequest reparsed = AbstractRequest.parseRequest(api, v, MessageUtil.toByteBufferAccessor(forwarded, v)).request;
                assertThat(TopicSplit.topics(reparsed)).as(where).hasSize(1).noneMatch(denied);
                assertThat(TopicSplit.topics(request)).as(where + ": the client's request is left as it was").hasSize(2);

                var entries = TopicSplit.errorEntries(request, denied, Errors.TOPIC_AUTHORIZATION_FAILED);
                assertThat(entries).as(where).isNotEmpty();
                ApiMessage merged = EMPTY_RESPONSES.get(api).apply(v);
                TopicSplit.merge(api, merged, entries);
                ByteBuffer wire = MessageUtil.toByteBufferAccessor(merged, v).buffer();
                AbstractResponse parsed = AbstractResponse.parseResponse(api, new ByteBufferAccessor(wire), v);
                assertThat(parsed.errorCounts()).as(where).containsKey(Errors.TOPIC_AUTHORIZATION_FAILED);
                checked++;
            }
        }
        System.out.println("split/merge checked for " + checked + " API versions");
        assertThat(checked).isGreaterThan(80);
    }

    @Test
    void fetchAnswersEachPartitionOfADeniedTopic() {
        for (short v = ApiKeys.FETCH.oldestVersion(); v <= ApiKeys.FETCH.latestVersion(true); v++) {
            AbstractRequest request = RequestTopicsTest.parse(ApiKeys.FETCH, v, REQUESTS.get(ApiKeys.FETCH).apply(v));
            FetchResponseData merged = new FetchResponseData();
            TopicSplit.merge(ApiKeys.FETCH, merged, TopicSplit.errorEntries(request, TopicSplitTest::isOrders, Errors.TOPIC_AUTHORIZATION_FAILED));
            FetchResponseData back = (FetchResponseData) AbstractResponse.parseResponse(ApiKeys.FETCH,
                    new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(merged, v).buffer()), v).data();
            assertThat(back.errorCode()).isZero(); // a top-level error would make consumers ignore the partitions
            assertThat(back.responses()).singleElement().satisfies(t -> {
                if (ApiKeys.FETCH.id >= 0 && t.topicId() != null && !Uuid.ZERO_UUID.equals(t.topicId())) assertThat(t.topicId()).isEqualTo(ORDERS);
                else assertThat(t.topic()).isEqualTo("orders");
                assertThat(t.partitions()).extracting(FetchResponseData.PartitionData::partitionIndex).containsExactly(0, 1);
                assertThat(t.partitions()).allSatisfy(p -> assertThat(p.errorCode()).isEqualTo(Errors.TOPIC_AUTHORIZATION_FAILED.code()));
            });
        }
    }

    /** Fetch and OffsetFetch of denied topics only: the proxy's answer names each partition, with no top-level error. */
    @Test
    void localAnswersOfFetchAndOffsetFetchArePerPartition() {
        for (ApiKeys api : List.of(ApiKeys.FETCH, ApiKeys.OFFSET_FETCH)) {
            for (short v = api.oldestVersion(); v <= api.latestVersion(true); v++) {
                AbstractRequest request = RequestTopicsTest.parse(api, v, REQUESTS.get(api).apply(v));
                assertThat(TopicSplit.answersLocally(request)).isTrue();
                ApiMessage answer = TopicSplit.localAnswer(request, TopicSplit.errorEntries(request, t -> true, Errors.TOPIC_AUTHORIZATION_FAILED));
                AbstractResponse parsed = AbstractResponse.parseResponse(api, new ByteBufferAccessor(MessageUtil.toByteBufferAccessor(answer, v).buffer()), v);
                assertThat(parsed.errorCounts().keySet()).as(api + " v" + v).isSubsetOf(Errors.TOPIC_AUTHORIZATION_FAILED, Errors.NONE);
                assertThat(parsed.errorCounts().get(Errors.TOPIC_AUTHORIZATION_FAILED)).as(api + " v" + v).isEqualTo(api == ApiKeys.FETCH ? 4 : 2);
            }
        }
        AbstractRequest produce = RequestTopicsTest.parse(ApiKeys.PRODUCE, 9, REQUESTS.get(ApiKeys.PRODUCE).apply((short) 9));
        assertThat(TopicSplit.answersLocally(produce)).as("kafka-clients' own error response is per partition").isFalse();
    }

    @Test
    void produceWithAcksZeroExpectsNoAnswer() {
        ProduceRequestData data = (ProduceRequestData) REQUESTS.get(ApiKeys.PRODUCE).apply((short) 9);
        AbstractRequest request = RequestTopicsTest.parse(ApiKeys.PRODUCE, 9, data.setAcks((short) 0));
        assertThat(TopicSplit.errorEntries(request, TopicSplitTest::isOrders, Errors.TOPIC_AUTHORIZATION_FAILED)).isNull();
    }
}
