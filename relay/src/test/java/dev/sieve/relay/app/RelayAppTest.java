package dev.sieve.relay.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.ingest.v1.FlowIngestGrpc;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The whole Quarkus application on real ports: gRPC (FlowIngest + Observer) and HTTP (REST, SSE, health, metrics) apart. */
@QuarkusTest
@TestProfile(RelayAppTest.Ports.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // one application: the first test counts every flow stored
class RelayAppTest {
    public static class Ports implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            String port = String.valueOf(ClickHouseServer.freePort());
            return Map.of("quarkus.grpc.server.port", port, "quarkus.grpc.server.test-port", port, "sieve.relay.memory-capacity", "100000");
        }
    }

    @ConfigProperty(name = "quarkus.http.test-port") int httpPort;
    @ConfigProperty(name = "quarkus.grpc.server.test-port") int grpcPort;

    static final long START = Timestamps.nanos(Instant.now().minusSeconds(120));

    HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    @Order(1)
    void ingestThenQueryOverGrpcRestAndSse() throws Exception {
        assertThat(httpPort).isNotEqualTo(grpcPort);
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            TestFlows g = new TestFlows(9, "node-x", START);
            List<Flow> flows = g.next(500);
            LinkedBlockingQueue<BatchAck> acks = new LinkedBlockingQueue<>();
            Metadata h = new Metadata();
            h.put(Metadata.Key.of("sieve-spool-batches", Metadata.ASCII_STRING_MARSHALLER), "7");
            StreamObserver<FlowBatch> push = FlowIngestGrpc.newStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                    .push(new StreamObserver<>() {
                        public void onNext(BatchAck a) { acks.add(a); }
                        public void onError(Throwable t) { }
                        public void onCompleted() { }
                    });
            for (int i = 0; i < 5; i++)
                push.onNext(FlowBatch.newBuilder().setNodeName("node-x").setEpoch("e").setSequence(i + 1).setFirstFlowSeq(i * 100L + 1)
                        .addAllFlows(flows.subList(i * 100, i * 100 + 100)).build());
            for (int i = 0; i < 5; i++) assertThat(acks.poll(10, TimeUnit.SECONDS).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);

            // gRPC Observer on the gRPC port
            var stub = ObserverGrpc.newBlockingStub(ch);
            assertThat(stub.serverStatus(ServerStatusRequest.getDefaultInstance()).getNumFlows()).isEqualTo(500);
            Iterator<GetFlowsResponse> it = stub.getFlows(GetFlowsRequest.newBuilder().setNumber(3).build());
            List<String> ids = new ArrayList<>();
            it.forEachRemaining(r -> ids.add(r.getFlow().getUuid()));
            assertThat(ids).containsExactly(flows.get(497).getUuid(), flows.get(498).getUuid(), flows.get(499).getUuid());

            // REST on the HTTP port: same filters
            long drops = flows.stream().filter(f -> f.getVerdict() == Verdict.DROPPED).count();
            HttpResponse<String> r = get("/api/v1/flows?verdict=DROPPED&all=true");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body().split("\n")).hasSize((int) drops);
            assertThat(r.body()).contains("\"verdict\":\"DROPPED\"").contains("\"node_name\":\"node-x\"");
            assertThat(get("/api/v1/flows?last=2&from-namespace=production").body().split("\n")).hasSize(2);
            HttpResponse<String> bad = get("/api/v1/flows?from-ip=300.1.1.1");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("source_ip").contains("300.1.1.1");
            assertThat(get("/api/v1/flows?nope=1").statusCode()).isEqualTo(400);
            assertThat(get("/api/v1/flows/counts?since=1h&bucket=1m").body()).contains("\"flows\"").contains("DROPPED");
            String map = get("/api/v1/service-map?since=1h").body();
            assertThat(map).contains("\"edges\"").contains("\"source\":\"production/frontend\"").contains("\"verdicts\"");
            assertThat(get("/api/v1/policies?since=1h").body()).contains("\"kind\":\"CiliumNetworkPolicy\"").contains("\"effect\":\"deny\"");
            assertThat(get("/api/v1/nodes").body()).contains("\"name\":\"node-x\"").contains("\"connected\":true").contains("\"spoolBatches\":7");
            assertThat(get("/api/v1/status").body()).contains("\"num_flows\":\"500\"");
            assertThat(get("/healthz").statusCode()).isEqualTo(200);
            assertThat(get("/readyz").body()).isEqualTo("ready\n");
            String metrics = get("/metrics").body();
            assertThat(metrics).contains("sieve_relay_ingest_flows_total 500").contains("sieve_relay_ingest_batches_total{status=\"STATUS_STORED\"} 5")
                    .contains("sieve_relay_ingest_batch_latency_seconds_count 5").contains("sieve_relay_node_spool_batches{node=\"node-x\"} 7")
                    .contains("sieve_relay_store_errors_total 0");

            // SSE with follow: history, then a live flow pushed afterwards arrives on the stream
            HttpResponse<java.io.InputStream> sse = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/v1/flows/stream?follow=true&last=1&node-name=node-x")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(sse.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
            LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) if (line.startsWith("data:")) events.add(line.substring(5).trim());
                } catch (Exception e) {
                    // closed
                }
            });
            // the history arrived, so the stream is open: its live subscription exists already (no grace period)
            assertThat(events.poll(10, TimeUnit.SECONDS)).contains(flows.get(499).getUuid());
            Flow live = g.next();
            push.onNext(FlowBatch.newBuilder().setNodeName("node-x").setEpoch("e").setSequence(6).setFirstFlowSeq(501).addFlows(live).build());
            assertThat(acks.poll(10, TimeUnit.SECONDS).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
            assertThat(events.poll(10, TimeUnit.SECONDS)).contains(live.getUuid());
            sse.body().close();
            reader.interrupt();
            push.onCompleted();
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** A follower that sees the SSE response start (EventSource's "open") gets the very next flow stored: no grace period. */
    @Test
    @Order(2)
    void sseFollowIsSubscribedOnceTheResponseStarts() throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            TestFlows g = new TestFlows(11, "node-open", START);
            LinkedBlockingQueue<BatchAck> acks = new LinkedBlockingQueue<>();
            StreamObserver<FlowBatch> push = FlowIngestGrpc.newStub(ch).push(new StreamObserver<>() {
                public void onNext(BatchAck a) { acks.add(a); }
                public void onError(Throwable t) { }
                public void onCompleted() { }
            });
            for (int round = 1; round <= 5; round++) {
                HttpResponse<java.io.InputStream> sse = HttpClient.newHttpClient().send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/v1/flows/stream?follow=true&node-name=node-open")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
                Thread reader = Thread.ofVirtual().start(() -> {
                    try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
                        for (String line; (line = in.readLine()) != null; ) if (line.startsWith("data:")) events.add(line.substring(5).trim());
                    } catch (Exception e) {
                        // closed
                    }
                });
                Flow live = g.next();
                push.onNext(FlowBatch.newBuilder().setNodeName("node-open").setEpoch("e").setSequence(round).setFirstFlowSeq(round).addFlows(live).build());
                assertThat(acks.poll(10, TimeUnit.SECONDS).getStatus()).isEqualTo(BatchAck.Status.STATUS_STORED);
                assertThat(events.poll(10, TimeUnit.SECONDS)).as("round %d", round).contains(live.getUuid());
                sse.body().close();
                reader.interrupt();
            }
            push.onCompleted();
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
