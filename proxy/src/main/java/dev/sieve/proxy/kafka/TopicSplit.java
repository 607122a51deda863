package dev.sieve.proxy.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.common.Uuid;
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
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.MessageUtil;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.FetchResponse;

/**
 * Per-topic answers for the APIs whose broker answers per topic (Kafka's {@code KafkaApis}: the topics a client may
 * not use get {@code TOPIC_AUTHORIZATION_FAILED} in the same response as the others' results): the request is
 * split into the allowed topics, forwarded, and the denied ones, whose entries kafka-clients' own
 * {@code getErrorResponse} builds (a request of only those topics, answered with the error); the broker's response
 * is merged with them. One table row per API says where its request and response keep their topic lists.
 *
 * <p>Not split (answered whole, as the broker does or as no partial answer exists): AddPartitionsToTxn (the broker
 * fails the other topics with {@code OPERATION_NOT_ATTEMPTED}), OffsetFetch of several groups at once, and requests
 * naming topic IDs no relayed Metadata named. Fetch is split here too, but its error entries are built per partition
 * (its {@code getErrorResponse} answers v13+ with a top-level error that consumers ignore), and its sessions are
 * tracked by {@link KafkaConnection}.
 */
final class TopicSplit {

    /** A topic entry's name and ID (either may be absent: v13+ Produce/Fetch name topics by ID only). */
    record TopicRef(String name, Uuid id) {

        /** Absent fields as null: a version without names parses them as "", one without IDs as the zero UUID. */
        static TopicRef of(String name, Uuid id) {
            return new TopicRef(name == null || name.isEmpty() ? null : name, id == null || Uuid.ZERO_UUID.equals(id) ? null : id);
        }
    }

    /**
     * One API: its request's topic list (mutable, for removal), an entry's name and ID, its response's topic list
     * (mutable, for additions).
     */
    private record Row(Function<ApiMessage, Collection<?>> requestTopics, Function<Object, TopicRef> ref,
                       Function<ApiMessage, Collection<?>> responseTopics, ErrorEntries errorEntries,
                       Function<ApiMessage, ApiMessage> emptyResponse) {

        Row(Function<ApiMessage, Collection<?>> requestTopics, Function<Object, TopicRef> ref,
            Function<ApiMessage, Collection<?>> responseTopics) {
            this(requestTopics, ref, responseTopics, null, null);
        }
    }

    /** Builds an API's error entries itself, where its {@code getErrorResponse} answers with a top-level error. */
    private interface ErrorEntries {
        List<Message> of(ApiMessage request, Predicate<TopicRef> denied, Errors error);
    }

    private static final Map<ApiKeys, Row> TABLE = Map.of(
            ApiKeys.PRODUCE, new Row(
                    d -> ((ProduceRequestData) d).topicData(),
                    t -> TopicRef.of(((ProduceRequestData.TopicProduceData) t).name(), ((ProduceRequestData.TopicProduceData) t).topicId()),
                    r -> ((ProduceResponseData) r).responses()),
            ApiKeys.FETCH, new Row(
                    d -> ((FetchRequestData) d).topics(),
                    t -> TopicRef.of(((FetchRequestData.FetchTopic) t).topic(), ((FetchRequestData.FetchTopic) t).topicId()),
                    r -> ((FetchResponseData) r).responses(),
                    (d, denied, error) -> fetchErrorEntries((FetchRequestData) d, denied, error),
                    d -> new FetchResponseData()),
            ApiKeys.LIST_OFFSETS, new Row(
                    d -> ((ListOffsetsRequestData) d).topics(),
                    t -> TopicRef.of(((ListOffsetsRequestData.ListOffsetsTopic) t).name(), null),
                    r -> ((ListOffsetsResponseData) r).topics()),
            ApiKeys.METADATA, new Row(
                    d -> ((MetadataRequestData) d).topics(),
                    t -> TopicRef.of(((MetadataRequestData.MetadataRequestTopic) t).name(), ((MetadataRequestData.MetadataRequestTopic) t).topicId()),
                    r -> ((MetadataResponseData) r).topics()),
            ApiKeys.OFFSET_COMMIT, new Row(
                    d -> ((OffsetCommitRequestData) d).topics(),
                    t -> TopicRef.of(((OffsetCommitRequestData.OffsetCommitRequestTopic) t).name(), ((OffsetCommitRequestData.OffsetCommitRequestTopic) t).topicId()),
                    r -> ((OffsetCommitResponseData) r).topics()),
            ApiKeys.OFFSET_FETCH, new Row(
                    // v0-7 name the group's topics at the top, v8+ per group (split when there is one group)
                    d -> ((OffsetFetchRequestData) d).groups().isEmpty() ? ((OffsetFetchRequestData) d).topics()
                            : ((OffsetFetchRequestData) d).groups().get(0).topics(),
                    t -> t instanceof OffsetFetchRequestData.OffsetFetchRequestTopics g ? TopicRef.of(g.name(), g.topicId())
                            : TopicRef.of(((OffsetFetchRequestData.OffsetFetchRequestTopic) t).name(), null),
                    r -> ((OffsetFetchResponseData) r).groups().isEmpty() ? ((OffsetFetchResponseData) r).topics()
                            : ((OffsetFetchResponseData) r).groups().get(0).topics(),
                    (d, denied, error) -> offsetFetchErrorEntries((OffsetFetchRequestData) d, denied, error),
                    d -> ((OffsetFetchRequestData) d).groups().isEmpty() ? new OffsetFetchResponseData()
                            : new OffsetFetchResponseData().setGroups(new ArrayList<>(List.of(new OffsetFetchResponseData.OffsetFetchResponseGroup()
                                    .setGroupId(((OffsetFetchRequestData) d).groups().get(0).groupId()))))),
            ApiKeys.CREATE_TOPICS, new Row(
                    d -> ((CreateTopicsRequestData) d).topics(),
                    t -> TopicRef.of(((CreateTopicsRequestData.CreatableTopic) t).name(), null),
                    r -> ((CreateTopicsResponseData) r).topics()),
            ApiKeys.DELETE_TOPICS, new Row(
                    // v0-5 list names, v6+ name-or-ID states
                    d -> ((DeleteTopicsRequestData) d).topics().isEmpty() ? ((DeleteTopicsRequestData) d).topicNames()
                            : ((DeleteTopicsRequestData) d).topics(),
                    t -> t instanceof String s ? TopicRef.of(s, null)
                            : TopicRef.of(((DeleteTopicsRequestData.DeleteTopicState) t).name(), ((DeleteTopicsRequestData.DeleteTopicState) t).topicId()),
                    r -> ((DeleteTopicsResponseData) r).responses()),
            ApiKeys.DELETE_RECORDS, new Row(
                    d -> ((DeleteRecordsRequestData) d).topics(),
                    t -> TopicRef.of(((DeleteRecordsRequestData.DeleteRecordsTopic) t).name(), null),
                    r -> ((DeleteRecordsResponseData) r).topics()),
            ApiKeys.OFFSET_FOR_LEADER_EPOCH, new Row(
                    d -> ((OffsetForLeaderEpochRequestData) d).topics(),
                    t -> TopicRef.of(((OffsetForLeaderEpochRequestData.OffsetForLeaderTopic) t).topic(), null),
                    r -> ((OffsetForLeaderEpochResponseData) r).topics()));

    /** TxnOffsetCommit: a table row too (Map.of stops at ten pairs). */
    private static final Row TXN_OFFSET_COMMIT = new Row(
            d -> ((TxnOffsetCommitRequestData) d).topics(),
            t -> TopicRef.of(((TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic) t).name(), null),
            r -> ((TxnOffsetCommitResponseData) r).topics());

    private TopicSplit() {}

    private static Row row(ApiKeys api) {
        return api == ApiKeys.TXN_OFFSET_COMMIT ? TXN_OFFSET_COMMIT : TABLE.get(api);
    }

    /** Whether this request can be answered per topic. */
    static boolean splits(AbstractRequest request) {
        Row row = row(request.apiKey());
        if (row == null) return false;
        if (request.data() instanceof OffsetFetchRequestData d) return d.groups().size() <= 1 && row.requestTopics.apply(d) != null;
        return true;
    }

    /** The request's topic entries, in order. */
    static List<TopicRef> topics(AbstractRequest request) {
        Row row = row(request.apiKey());
        List<TopicRef> out = new ArrayList<>();
        for (Object t : row.requestTopics.apply(request.data())) out.add(row.ref.apply(t));
        return out;
    }

    /**
     * Whether a request of denied topics only is answered by the proxy with an empty response and the error entries
     * (Fetch, OffsetFetch: their {@code getErrorResponse} is a top-level error, which clients do not take per topic);
     * the others get kafka-clients' {@code getErrorResponse} of the whole request, per topic already.
     */
    static boolean answersLocally(AbstractRequest request) {
        return row(request.apiKey()).emptyResponse != null;
    }

    /** The proxy's own answer to a request of denied topics only: an empty response with {@code entries}. */
    static ApiMessage localAnswer(AbstractRequest request, List<Message> entries) {
        ApiMessage answer = row(request.apiKey()).emptyResponse.apply(request.data());
        merge(request.apiKey(), answer, entries);
        return answer;
    }

    /** A copy of the request's data without the topics {@code drop} selects. */
    static ApiMessage without(AbstractRequest request, Predicate<TopicRef> drop) {
        Row row = row(request.apiKey());
        ApiMessage copy = (ApiMessage) request.data().duplicate();
        row.requestTopics.apply(copy).removeIf(t -> drop.test(row.ref.apply(t)));
        return copy;
    }

    /**
     * The response entries that answer the topics {@code denied} selects with {@code error}, in the API's own shape
     * for this version: kafka-clients' {@code getErrorResponse} of a request naming only those topics. Null when the
     * request expects no answer (Produce with acks=0).
     */
    static List<Message> errorEntries(AbstractRequest request, Predicate<TopicRef> denied, Errors error) {
        Row row = row(request.apiKey());
        if (row.errorEntries != null) return row.errorEntries.of(request.data(), denied, error);
        ApiMessage only = without(request, denied.negate());
        short version = request.version();
        AbstractRequest deniedOnly = AbstractRequest.parseRequest(request.apiKey(), version,
                MessageUtil.toByteBufferAccessor(only, version)).request;
        AbstractResponse answer = deniedOnly.getErrorResponse(0, error.exception());
        if (answer == null) return null;
        List<Message> entries = new ArrayList<>();
        for (Object e : row.responseTopics.apply(answer.data())) entries.add((Message) e);
        return entries;
    }

    /** Fetch answers each partition of a denied topic with the error (as {@code KafkaApis.handleFetchRequest}). */
    static List<Message> fetchErrorEntries(FetchRequestData data, Predicate<TopicRef> denied, Errors error) {
        List<Message> entries = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : data.topics()) {
            if (!denied.test(TopicRef.of(t.topic(), t.topicId()))) continue;
            List<Integer> partitions = new ArrayList<>();
            for (FetchRequestData.FetchPartition p : t.partitions()) partitions.add(p.partition());
            entries.add(fetchErrorEntry(TopicRef.of(t.topic(), t.topicId()), partitions, error));
        }
        return entries;
    }

    /**
     * OffsetFetch answers each partition of a denied topic with the error and no offset, as the broker does (its
     * {@code getErrorResponse} is a top-level or group error from v2 on).
     */
    static List<Message> offsetFetchErrorEntries(OffsetFetchRequestData data, Predicate<TopicRef> denied, Errors error) {
        List<Message> entries = new ArrayList<>();
        if (data.groups().isEmpty()) {
            for (OffsetFetchRequestData.OffsetFetchRequestTopic t : data.topics()) {
                if (!denied.test(TopicRef.of(t.name(), null))) continue;
                List<OffsetFetchResponseData.OffsetFetchResponsePartition> ps = new ArrayList<>();
                for (int p : t.partitionIndexes()) {
                    ps.add(new OffsetFetchResponseData.OffsetFetchResponsePartition().setPartitionIndex(p).setCommittedOffset(-1)
                            .setMetadata("").setErrorCode(error.code()));
                }
                entries.add(new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(t.name()).setPartitions(ps));
            }
            return entries;
        }
        for (OffsetFetchRequestData.OffsetFetchRequestTopics t : data.groups().get(0).topics()) {
            if (!denied.test(TopicRef.of(t.name(), t.topicId()))) continue;
            List<OffsetFetchResponseData.OffsetFetchResponsePartitions> ps = new ArrayList<>();
            for (int p : t.partitionIndexes()) {
                ps.add(new OffsetFetchResponseData.OffsetFetchResponsePartitions().setPartitionIndex(p).setCommittedOffset(-1)
                        .setMetadata("").setErrorCode(error.code()));
            }
            entries.add(new OffsetFetchResponseData.OffsetFetchResponseTopics().setName(t.name()).setTopicId(t.topicId()).setPartitions(ps));
        }
        return entries;
    }

    static FetchResponseData.FetchableTopicResponse fetchErrorEntry(TopicRef topic, Collection<Integer> partitions, Errors error) {
        List<FetchResponseData.PartitionData> out = new ArrayList<>();
        for (int p : partitions) out.add(FetchResponse.partitionResponse(p, error));
        return new FetchResponseData.FetchableTopicResponse().setTopic(topic.name() == null ? "" : topic.name())
                .setTopicId(topic.id() == null ? Uuid.ZERO_UUID : topic.id()).setPartitions(out);
    }

    /** Adds (copies of) {@code entries} to the response's topics. */
    @SuppressWarnings("unchecked")
    static void merge(ApiKeys api, ApiMessage response, List<Message> entries) {
        Collection<Object> topics = (Collection<Object>) row(api).responseTopics.apply(response);
        for (Message e : entries) topics.add(e.duplicate());
    }
}
