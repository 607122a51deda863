package dev.sieve.proxy.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractRequest;
import org.junit.jupiter.api.Test;

/** The topics of each API the rules constrain, read from requests serialized and parsed by kafka-clients. */
class RequestTopicsTest {

    final TopicIds ids = new TopicIds(10);
    final Uuid paymentsId = Uuid.randomUuid();

    static AbstractRequest parse(ApiKeys api, int version, ApiMessage data) {
        short v = (short) version;
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer b = ByteBuffer.allocate(data.size(cache, v));
        data.write(new ByteBufferAccessor(b), cache, v);
        b.flip();
        return AbstractRequest.parseRequest(api, v, new ByteBufferAccessor(b)).request;
    }

    RequestTopics topics(ApiKeys api, int version, ApiMessage data) {
        return RequestTopics.of(parse(api, version, data), ids);
    }

    @Test
    void produceByNameAndById() {
        var byName = new ProduceRequestData.TopicProduceDataCollection();
        byName.add(new ProduceRequestData.TopicProduceData().setName("payments"));
        byName.add(new ProduceRequestData.TopicProduceData().setName("orders"));
        assertThat(topics(ApiKeys.PRODUCE, 12, new ProduceRequestData().setAcks((short) 1).setTopicData(byName)).names())
                .containsExactly("payments", "orders");

        var byId = new ProduceRequestData.TopicProduceDataCollection();
        byId.add(new ProduceRequestData.TopicProduceData().setTopicId(paymentsId));
        ProduceRequestData data = new ProduceRequestData().setAcks((short) 1).setTopicData(byId);
        RequestTopics unknown = topics(ApiKeys.PRODUCE, 13, data);
        assertThat(unknown.names()).isEmpty();
        assertThat(unknown.unknownIds()).containsExactly(paymentsId);
        ids.learn(paymentsId, "payments");
        assertThat(topics(ApiKeys.PRODUCE, 13, data).names()).containsExactly("payments");
    }

    @Test
    void fetchByNameAndById() {
        ids.learn(paymentsId, "payments");
        assertThat(topics(ApiKeys.FETCH, 12, new FetchRequestData().setTopics(List.of(
                new FetchRequestData.FetchTopic().setTopic("notifications")))).names()).containsExactly("notifications");
        assertThat(topics(ApiKeys.FETCH, 13, new FetchRequestData().setTopics(List.of(
                new FetchRequestData.FetchTopic().setTopicId(paymentsId)))).names()).containsExactly("payments");
        assertThat(topics(ApiKeys.FETCH, 13, new FetchRequestData().setSessionId(7).setSessionEpoch(3)).names()).isEmpty();
    }

    @Test
    void metadataForAllTopicsIsMarked() {
        assertThat(topics(ApiKeys.METADATA, 12, new MetadataRequestData().setTopics(null)).allTopics()).isTrue();
        assertThat(topics(ApiKeys.METADATA, 12, new MetadataRequestData().setTopics(List.of())).allTopics()).isTrue();
        RequestTopics some = topics(ApiKeys.METADATA, 12, new MetadataRequestData().setTopics(List.of(
                new MetadataRequestData.MetadataRequestTopic().setName("payments"))));
        assertThat(some.allTopics()).isFalse();
        assertThat(some.names()).containsExactly("payments");
    }

    @Test
    void offsetsAndGroupAndAdminApis() {
        assertThat(topics(ApiKeys.LIST_OFFSETS, 7, new ListOffsetsRequestData().setTopics(List.of(
                new ListOffsetsRequestData.ListOffsetsTopic().setName("payments")))).names()).containsExactly("payments");
        assertThat(topics(ApiKeys.OFFSET_COMMIT, 9, new OffsetCommitRequestData().setGroupId("g").setTopics(List.of(
                new OffsetCommitRequestData.OffsetCommitRequestTopic().setName("payments")))).names()).containsExactly("payments");
        assertThat(topics(ApiKeys.OFFSET_FETCH, 7, new OffsetFetchRequestData().setGroupId("g").setTopics(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("payments")))).names()).containsExactly("payments");
        assertThat(topics(ApiKeys.OFFSET_FETCH, 9, new OffsetFetchRequestData().setGroups(List.of(
                new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g").setTopics(List.of(
                        new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("notifications")))))).names())
                .containsExactly("notifications");
        assertThat(topics(ApiKeys.OFFSET_FOR_LEADER_EPOCH, 4, new OffsetForLeaderEpochRequestData().setTopics(
                new OffsetForLeaderEpochRequestData.OffsetForLeaderTopicCollection(List.of(
                        new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("payments")).iterator()))).names())
                .containsExactly("payments");
        assertThat(topics(ApiKeys.CREATE_TOPICS, 7, new CreateTopicsRequestData().setTopics(
                new CreateTopicsRequestData.CreatableTopicCollection(List.of(
                        new CreateTopicsRequestData.CreatableTopic().setName("new-topic").setNumPartitions(1)
                                .setReplicationFactor((short) 1)).iterator()))).names()).containsExactly("new-topic");
        assertThat(topics(ApiKeys.DELETE_TOPICS, 5, new DeleteTopicsRequestData().setTopicNames(List.of("orders"))).names())
                .containsExactly("orders");
        assertThat(topics(ApiKeys.DELETE_TOPICS, 6, new DeleteTopicsRequestData().setTopics(List.of(
                new DeleteTopicsRequestData.DeleteTopicState().setName("orders")))).names()).containsExactly("orders");
        assertThat(topics(ApiKeys.DELETE_RECORDS, 2, new DeleteRecordsRequestData().setTopics(List.of(
                new DeleteRecordsRequestData.DeleteRecordsTopic().setName("audit")))).names()).containsExactly("audit");
        assertThat(topics(ApiKeys.TXN_OFFSET_COMMIT, 3, new TxnOffsetCommitRequestData().setTransactionalId("t").setGroupId("g")
                .setTopics(List.of(new TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("payments")))).names())
                .containsExactly("payments");
        assertThat(topics(ApiKeys.ADD_PARTITIONS_TO_TXN, 3, new AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("t")
                .setV3AndBelowTopics(new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection(List.of(
                        new AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName("payments")).iterator()))).names())
                .containsExactly("payments");
        // the group APIs name no topics
        assertThat(topics(ApiKeys.JOIN_GROUP, 9, new JoinGroupRequestData().setGroupId("g").setProtocolType("consumer")))
                .isEqualTo(RequestTopics.NONE);
    }
}
