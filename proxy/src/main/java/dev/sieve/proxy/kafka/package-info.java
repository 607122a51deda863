/**
 * The Kafka proxy ({@link dev.sieve.proxy.kafka.KafkaProxyProtocol}): Cilium's Kafka rules enforced per request.
 *
 * <p>Frames are Kafka's length-prefixed ones, bounded by Kafka's own {@code socket.request.max.bytes} default
 * (100 MiB); a negative length (a 2 GB prefix), a larger one, a header or body kafka-clients cannot parse, or an
 * unknown API key closes that connection and reports a flow with verdict ERROR, as does a client that stops in the
 * middle of a frame for 30 s ({@link dev.sieve.proxy.kafka.KafkaFrames}; idle between frames is fine, as Kafka's
 * connections idle for minutes). A frame inside one read is judged and forwarded as a slice of it, without a copy.
 * Headers and bodies are parsed by
 * kafka-clients ({@code RequestHeader.parse}, {@code AbstractRequest.parseRequest}); the broker's ApiVersions
 * answer is capped at the versions this kafka-clients parses, so clients never send one the proxy cannot read.
 * Forwarded requests leave byte for byte as they came.
 *
 * <p>Semantics, following Cilium's (removed) {@code pkg/kafka}:
 * <ul>
 *   <li>Topics are read from the APIs whose rules constrain topics (Produce, Fetch, ListOffsets, Metadata,
 *       OffsetCommit, OffsetFetch, CreateTopics, DeleteTopics, DeleteRecords, OffsetForLeaderEpoch,
 *       AddPartitionsToTxn, TxnOffsetCommit); a request is allowed when each of its topics is allowed by some rule
 *       (one rule per topic, as Cilium matched), judged as one-topic requests by
 *       {@code ConnectionPolicy.judge}, the judge of {@code sieve policy trace}.</li>
 *   <li>A request is answered per topic where the broker answers per topic ({@code KafkaApis}: topics the client
 *       may not use get {@code TOPIC_AUTHORIZATION_FAILED} in the same response as the others' results): Produce,
 *       Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch (one group), CreateTopics, DeleteTopics,
 *       DeleteRecords, OffsetForLeaderEpoch, TxnOffsetCommit ({@link dev.sieve.proxy.kafka.TopicSplit}, one table).
 *       Each topic is judged alone; the denied ones are taken out of the forwarded request (re-serialised with the
 *       client's header, so the broker never sees them, nor auto-creates them) and the broker's response is merged
 *       with the API's own error entries for them (kafka-clients' {@code getErrorResponse} of a request naming only
 *       those; per partition for Fetch and OffsetFetch, whose {@code getErrorResponse} is a top-level error). A
 *       request whose topics are all denied is answered by the proxy alone (that same {@code getErrorResponse}, or
 *       for Fetch and OffsetFetch an empty response with the per-partition entries), in correlation-id order among
 *       the forwarded ones, and the connection stays. Produce with acks=0 gets no answer either way (the broker closes
 *       the connection after an error there; the proxy keeps it). Unlike Cilium, which denied such a request whole,
 *       a Produce to an allowed and a denied topic stores the allowed records.</li>
 *   <li>Answered whole: AddPartitionsToTxn (the broker answers the other topics {@code OPERATION_NOT_ATTEMPTED}),
 *       OffsetFetch of several groups, requests of APIs without topics, and requests naming topic IDs no relayed
 *       Metadata named.</li>
 *   <li>Metadata for all topics is forwarded and its answer keeps only the topics the rules let the client describe
 *       (Metadata of that one topic allowed). Metadata v1+ naming only denied topics is still forwarded (with none):
 *       its answer carries the brokers, without which clients ignore it.</li>
 *   <li>Requests that name topics by ID (Produce v13+, Fetch v13+, ...) are judged by the names that the Metadata
 *       responses relayed by this protocol instance gave those IDs; an ID none named is denied with
 *       {@code UNKNOWN_TOPIC_ID}, which makes clients refresh their metadata (through the proxy) and retry.</li>
 *   <li>Fetch sessions (KIP-227): the denied partitions stay in the client's session but never enter the broker's.
 *       The proxy keeps them per session and answers them {@code TOPIC_AUTHORIZATION_FAILED} in every response of the
 *       session (the broker answers a partition in error in each response too), takes them out of the forwarded
 *       {@code forgotten_topics_data} when the client forgets them, and forwards every request of a session, even
 *       one left without topics, so the broker's session epoch advances with the client's. A top-level error answer
 *       (the broker's) gets no partitions added. A Fetch without a session naming denied topics only is answered by
 *       the proxy per partition, without a session. Incremental fetches are judged with the topics of their session,
 *       which the proxy judged when they entered it on this connection; a session this connection did not open is
 *       answered {@code FETCH_SESSION_ID_NOT_FOUND}, and the client starts a new one.</li>
 * </ul>
 *
 * <p>Flows: one per topic of each request and response (as Cilium logged one record per topic), with Hubble's
 * Kafka record and summary; in a split request each topic's flow has its own verdict and rules (the denied topics
 * DROPPED, the allowed FORWARDED), and the response's flows carry the broker's error code for the allowed topics and
 * {@code TOPIC_AUTHORIZATION_FAILED} for the denied. The proxy's own answer is reported FORWARDED with its error
 * code; the request's flow carries the DROPPED.
 *
 * <p>Cilium's roles predate some of today's client behaviour: {@code role: produce} (Produce, Metadata,
 * ApiVersions) has no InitProducerId, so idempotent producers (the default since Kafka 3.0) need
 * {@code enable.idempotence=false} or an {@code apiKey: initproducerid} rule. TLS and SASL's raw (v0) token
 * exchange are not Kafka frames the proxy can judge: such connections are closed.
 */
package dev.sieve.proxy.kafka;
