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
 *   <li>A denied request is denied whole, as Cilium did: the API's own error response
 *       ({@code getErrorResponse}, {@code TOPIC_AUTHORIZATION_FAILED} for every topic and partition) takes its
 *       place among the forwarded requests' responses, in correlation-id order, and the connection stays. A
 *       Produce to an allowed and a denied topic therefore fails for both. Produce with acks=0 gets no answer.</li>
 *   <li>Metadata is answered per topic, like the broker's own authorizer: the denied topics are taken out of the
 *       forwarded request (so the broker never auto-creates them) and added to its answer with
 *       {@code TOPIC_AUTHORIZATION_FAILED} (a broker-less error response would be ignored by clients). Metadata
 *       for all topics is forwarded and its answer keeps only the topics the rules let the client describe
 *       (Metadata of that one topic allowed).</li>
 *   <li>Requests that name topics by ID (Produce v13+, Fetch v13+, ...) are judged by the names that the Metadata
 *       responses relayed by this protocol instance gave those IDs; an ID none named is denied with
 *       {@code UNKNOWN_TOPIC_ID}, which makes clients refresh their metadata (through the proxy) and retry.</li>
 *   <li>Incremental fetches (KIP-227 sessions) are judged with the topics of their session, which the proxy
 *       judged when they entered it on this connection; a session this connection did not open is answered
 *       {@code FETCH_SESSION_ID_NOT_FOUND}, and the client starts a new one.</li>
 * </ul>
 *
 * <p>Flows: one per topic of each request and response (as Cilium logged one record per topic), with Hubble's
 * Kafka record and summary. The proxy's own answer to a denied request is reported FORWARDED with its error code;
 * the request's flow carries the DROPPED.
 *
 * <p>Cilium's roles predate some of today's client behaviour: {@code role: produce} (Produce, Metadata,
 * ApiVersions) has no InitProducerId, so idempotent producers (the default since Kafka 3.0) need
 * {@code enable.idempotence=false} or an {@code apiKey: initproducerid} rule. TLS and SASL's raw (v0) token
 * exchange are not Kafka frames the proxy can judge: such connections are closed.
 */
package dev.sieve.proxy.kafka;
