package dev.sieve.proxy.testing;

import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.proxy.http.HttpProxyProtocol;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * gRPC unary calls per second, direct to a grpc-java server and through the HTTP proxy (policy:
 * {@code grpc-observer-policy.yaml}, the allowed method), with {@code concurrency} calls outstanding on one channel.
 * Prints one JSON object. Arguments: SECONDS CONCURRENCY EXAMPLES_DIR.
 */
public final class GrpcUnaryBench {

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        int concurrency = Integer.parseInt(args[1]);
        Path examples = Path.of(args[2]);
        Server server = ServerBuilder.forPort(0).addService(new ObserverGrpc.ObserverImplBase() {
            @Override
            public void serverStatus(ServerStatusRequest req, StreamObserver<ServerStatusResponse> out) {
                out.onNext(ServerStatusResponse.newBuilder().setNumFlows(42).build());
                out.onCompleted();
            }
        }).build().start();
        Path policy = Path.of(GrpcUnaryBench.class.getResource("/grpc-observer-policy.yaml").toURI());
        ConnectionPolicy cp = PlainProxyHarness.policy(List.of(examples.resolve("cluster"), policy),
                "production/api-consumer", "production/api-server", 50051);
        int threads = Integer.getInteger("threads", Runtime.getRuntime().availableProcessors());
        try (PlainProxyHarness proxy = PlainProxyHarness.start(new HttpProxyProtocol(),
                new InetSocketAddress("127.0.0.1", server.getPort()), cp, threads, false)) {
            double direct = run(server.getPort(), seconds, concurrency);
            double proxied = run(proxy.port(), seconds, concurrency);
            System.out.printf("{\"seconds\": %d, \"concurrency\": %d, \"direct_calls_per_s\": %.0f, \"proxy_calls_per_s\": %.0f, \"ratio\": %.3f}%n",
                    seconds, concurrency, direct, proxied, proxied / direct);
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Calls/s over {@code seconds} after a warm-up twice as long. */
    private static double run(int port, int seconds, int concurrency) throws InterruptedException {
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            var stub = ObserverGrpc.newStub(ch);
            burst(stub, 2 * seconds, concurrency); // the JIT's warm-up
            return burst(stub, seconds, concurrency);
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static double burst(ObserverGrpc.ObserverStub stub, int seconds, int concurrency) throws InterruptedException {
        Semaphore slots = new Semaphore(concurrency);
        AtomicLong done = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long t0 = System.nanoTime();
        while (System.nanoTime() < end) {
            slots.acquire();
            stub.serverStatus(ServerStatusRequest.getDefaultInstance(), new StreamObserver<>() {
                @Override
                public void onNext(ServerStatusResponse r) { }

                @Override
                public void onError(Throwable t) {
                    failed.incrementAndGet();
                    slots.release();
                }

                @Override
                public void onCompleted() {
                    done.incrementAndGet();
                    slots.release();
                }
            });
        }
        slots.acquire(concurrency);
        double secs = (System.nanoTime() - t0) / 1e9;
        if (failed.get() > 0) System.err.println("grpc bench: " + failed.get() + " calls failed");
        return done.get() / secs;
    }
}
