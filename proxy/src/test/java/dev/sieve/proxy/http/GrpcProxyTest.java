package dev.sieve.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.GetNodesResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.testing.PlainProxyHarness;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * gRPC (HTTP/2 with prior knowledge) through the proxy: a grpc-java server and client, a Cilium policy that allows
 * {@code /observer.Observer/ServerStatus} only.
 */
class GrpcProxyTest {

    static Server server;
    static PlainProxyHarness proxy;
    static ManagedChannel channel;
    static final AtomicInteger getNodesCalls = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        server = ServerBuilder.forPort(0).addService(new ObserverGrpc.ObserverImplBase() {
            @Override
            public void serverStatus(ServerStatusRequest req, StreamObserver<ServerStatusResponse> out) {
                out.onNext(ServerStatusResponse.newBuilder().setNumFlows(42).build());
                out.onCompleted();
            }

            @Override
            public void getNodes(GetNodesRequest req, StreamObserver<GetNodesResponse> out) {
                getNodesCalls.incrementAndGet();
                out.onNext(GetNodesResponse.getDefaultInstance());
                out.onCompleted();
            }
        }).build().start();
        Path ex = PlainProxyHarness.examples();
        Path policy = Path.of(GrpcProxyTest.class.getResource("/grpc-observer-policy.yaml").toURI());
        ConnectionPolicy cp = PlainProxyHarness.policy(List.of(ex.resolve("cluster"), policy),
                "production/api-consumer", "production/api-server", 50051);
        proxy = PlainProxyHarness.start(new HttpProxyProtocol(), new InetSocketAddress("127.0.0.1", server.getPort()), cp);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", proxy.port()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (proxy != null) proxy.close();
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void anAllowedUnaryCallGoesThroughAndADeniedOneSeesPermissionDenied() throws Exception {
        proxy.clearEvents();
        var stub = ObserverGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        for (int i = 0; i < 20; i++) assertThat(stub.serverStatus(ServerStatusRequest.getDefaultInstance()).getNumFlows()).isEqualTo(42);

        assertThatThrownBy(() -> stub.getNodes(GetNodesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).isEqualTo("Access denied");
                });
        assertThat(getNodesCalls).hasValue(0);
        // the connection (and its other streams) carry on
        assertThat(stub.serverStatus(ServerStatusRequest.getDefaultInstance()).getNumFlows()).isEqualTo(42);

        List<L7Event> reqs = proxy.await(e -> !e.isResponse(), 22, 5000);
        assertThat(reqs).hasSize(22);
        L7Event ok = reqs.get(0);
        assertThat(ok.verdict()).isEqualTo(Verdict.FORWARDED);
        assertThat(ok.layer7().getHttp().getProtocol()).isEqualTo("HTTP/2");
        assertThat(ok.layer7().getHttp().getMethod()).isEqualTo("POST");
        assertThat(ok.layer7().getHttp().getUrl()).isEqualTo("http://127.0.0.1:" + proxy.port() + "/observer.Observer/ServerStatus");
        assertThat(ok.ingressRules()).singleElement().satisfies(r -> assertThat(r.policy().displayName()).contains("grpc-observer-status"));
        L7Event denied = reqs.get(20);
        assertThat(denied.verdict()).isEqualTo(Verdict.DROPPED);
        assertThat(denied.summary()).isEqualTo("HTTP/2 POST http://127.0.0.1:" + proxy.port() + "/observer.Observer/GetNodes");

        List<L7Event> resps = proxy.await(L7Event::isResponse, 22, 5000);
        assertThat(resps).hasSize(22);
        assertThat(resps).filteredOn(e -> e.layer7().getHttp().getCode() == 200).hasSize(21);
        assertThat(resps).filteredOn(e -> e.layer7().getHttp().getCode() == 403).singleElement()
                .satisfies(e -> assertThat(e.summary()).startsWith("HTTP/2 403 "));
        assertThat(resps).allSatisfy(e -> assertThat(e.layer7().getLatencyNs()).isPositive());
    }

    @Test
    void aServerThatIsDownIsUnavailable() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Path ex = PlainProxyHarness.examples();
        Path policy = Path.of(GrpcProxyTest.class.getResource("/grpc-observer-policy.yaml").toURI());
        ConnectionPolicy cp = PlainProxyHarness.policy(List.of(ex.resolve("cluster"), policy),
                "production/api-consumer", "production/api-server", 50051);
        try (PlainProxyHarness p = PlainProxyHarness.start(new HttpProxyProtocol(), new InetSocketAddress("127.0.0.1", closed), cp)) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", p.port()).usePlaintext().build();
            try {
                var stub = ObserverGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
                for (int i = 0; i < 3; i++) { // each call on the same connection
                    assertThatThrownBy(() -> stub.serverStatus(ServerStatusRequest.getDefaultInstance()))
                            .isInstanceOfSatisfying(StatusRuntimeException.class,
                                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
                }
                assertThat(p.await(e -> e.verdict() == Verdict.ERROR, 1, 3000)).isNotEmpty();
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void manyConcurrentCallsShareTheConnection() throws Exception {
        var stub = ObserverGrpc.newFutureStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
        List<com.google.common.util.concurrent.ListenableFuture<ServerStatusResponse>> calls = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) calls.add(stub.serverStatus(ServerStatusRequest.getDefaultInstance()));
        for (var c : calls) assertThat(c.get(20, TimeUnit.SECONDS).getNumFlows()).isEqualTo(42);
    }
}
