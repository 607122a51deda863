package dev.sieve.proxy.kafka;

import dev.sieve.policy.l7.KafkaApiKeys;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.AddPartitionsToTxnRequestData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteRecordsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.TxnOffsetCommitRequestData;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AddPartitionsToTxnRequest;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.DeleteRecordsRequest;
import org.apache.kafka.common.requests.DeleteTopicsRequest;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.ListOffsetsRequest;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.OffsetCommitRequest;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetsForLeaderEpochRequest;
import org.apache.kafka.common.requests.ProduceRequest;
import org.apache.kafka.common.requests.TxnOffsetCommitRequest;

/**
 * The topics a request names, as Cilium's Kafka rules see them: only the APIs whose rules constrain topics
 * ({@link KafkaApiKeys#TOPIC_KEYS}: Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch,
 * CreateTopics, DeleteTopics, DeleteRecords, OffsetForLeaderEpoch, AddPartitionsToTxn, TxnOffsetCommit) carry
 * topics; the others (ApiVersions, the group and coordinator APIs, InitProducerId, EndTxn, ...) carry none.
 *
 * @param names the topics by name, IDs resolved through {@link TopicIds}, in request order, each once
 * @param unknownIds topic IDs no relayed Metadata response named (the request is denied)
 * @param allTopics a Metadata request for every topic (null or empty list): its response is filtered instead
 */
public record RequestTopics(List<String> names, List<Uuid> unknownIds, boolean allTopics) {

    static final RequestTopics NONE = new RequestTopics(List.of(), List.of(), false);

    public static RequestTopics of(AbstractRequest request, TopicIds ids) {
        Collector c = new Collector(ids);
        switch (request) {
            case ProduceRequest r -> {
                for (ProduceRequestData.TopicProduceData t : r.data().topicData()) c.add(t.name(), t.topicId());
            }
            case FetchRequest r -> {
                for (FetchRequestData.FetchTopic t : r.data().topics()) c.add(t.topic(), t.topicId());
            }
            case ListOffsetsRequest r -> {
                for (ListOffsetsRequestData.ListOffsetsTopic t : r.data().topics()) c.add(t.name(), null);
            }
            case MetadataRequest r -> {
                List<MetadataRequestData.MetadataRequestTopic> topics = r.data().topics();
                if (topics == null || topics.isEmpty()) return new RequestTopics(List.of(), List.of(), true);
                for (MetadataRequestData.MetadataRequestTopic t : topics) c.add(t.name(), t.topicId());
            }
            case OffsetCommitRequest r -> {
                for (OffsetCommitRequestData.OffsetCommitRequestTopic t : r.data().topics()) c.add(t.name(), t.topicId());
            }
            case OffsetFetchRequest r -> {
                if (r.data().topics() != null) {
                    for (OffsetFetchRequestData.OffsetFetchRequestTopic t : r.data().topics()) c.add(t.name(), null);
                }
                for (OffsetFetchRequestData.OffsetFetchRequestGroup g : r.data().groups()) {
                    if (g.topics() == null) continue;
                    for (OffsetFetchRequestData.OffsetFetchRequestTopics t : g.topics()) c.add(t.name(), t.topicId());
                }
            }
            case CreateTopicsRequest r -> {
                for (CreateTopicsRequestData.CreatableTopic t : r.data().topics()) c.add(t.name(), null);
            }
            case DeleteTopicsRequest r -> {
                for (String name : r.data().topicNames()) c.add(name, null);
                for (DeleteTopicsRequestData.DeleteTopicState t : r.data().topics()) c.add(t.name(), t.topicId());
            }
            case DeleteRecordsRequest r -> {
                for (DeleteRecordsRequestData.DeleteRecordsTopic t : r.data().topics()) c.add(t.name(), null);
            }
            case OffsetsForLeaderEpochRequest r -> {
                for (OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t : r.data().topics()) c.add(t.topic(), null);
            }
            case AddPartitionsToTxnRequest r -> {
                for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic t : r.data().v3AndBelowTopics()) c.add(t.name(), null);
                for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction tx : r.data().transactions()) {
                    for (AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic t : tx.topics()) c.add(t.name(), null);
                }
            }
            case TxnOffsetCommitRequest r -> {
                for (TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic t : r.data().topics()) c.add(t.name(), null);
            }
            default -> {
                return NONE;
            }
        }
        return c.result();
    }

    private static final class Collector {
        private final TopicIds ids;
        private final Set<String> names = new LinkedHashSet<>();
        private final Set<Uuid> unknown = new LinkedHashSet<>();

        Collector(TopicIds ids) {
            this.ids = ids;
        }

        void add(String name, Uuid id) {
            if (name != null && !name.isEmpty()) {
                names.add(name);
            } else if (id != null && !Uuid.ZERO_UUID.equals(id)) {
                String learned = ids.name(id);
                if (learned != null) names.add(learned);
                else unknown.add(id);
            }
        }

        RequestTopics result() {
            return new RequestTopics(List.copyOf(new ArrayList<>(names)), List.copyOf(unknown), false);
        }
    }
}
