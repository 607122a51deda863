package dev.sieve.relay.support;

import dev.sieve.relay.ingest.FlowIngestService;
import dev.sieve.relay.ingest.IngestHeaders;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.observer.RelayObserverService;
import dev.sieve.relay.store.FlowStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** The relay's ingest + observer wired by hand on an in-process gRPC server, so tests can kill and restart it. */
public final class RelayHarness implements AutoCloseable {
    public final String serverName;
    public final FlowStore store;
    public final NodeRegistry nodes;
    public final LiveFlows live;
    public final RelayMetrics metrics = new RelayMetrics();
    public final IngestProcessor processor;
    public final RelayObserverService observer;
    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final Server server;

    public RelayHarness(String serverName, FlowStore store, IngestProcessor.Limits limits, Duration nodeTimeout) throws Exception {
        this(serverName, store, limits, nodeTimeout, 100_000);
    }

    /** @param liveQueue how many flows a follower that does not read may fall behind before it loses them */
    public RelayHarness(String serverName, FlowStore store, IngestProcessor.Limits limits, Duration nodeTimeout, int liveQueue) throws Exception {
        this.serverName = serverName;
        this.live = new LiveFlows(liveQueue);
        this.store = store;
        this.nodes = new NodeRegistry(Clock.systemUTC(), nodeTimeout);
        this.processor = new IngestProcessor(store, live, nodes, metrics, limits);
        this.observer = new RelayObserverService(new FlowService(store, live), nodes, store, metrics::flowsRate);
        this.server = InProcessServerBuilder.forName(serverName)
                .addService(ServerInterceptors.intercept(new FlowIngestService(processor, nodes, pool), new IngestHeaders()))
                .addService(observer)
                .build().start();
    }

    public RelayHarness(String serverName, FlowStore store) throws Exception {
        this(serverName, store, new IngestProcessor.Limits(10_000, 16 << 20), Duration.ofSeconds(60));
    }

    public ManagedChannel channel() {
        return InProcessChannelBuilder.forName(serverName).build();
    }

    /** Kills the relay: server gone at once, store closed (a restart builds a new harness on the same data). */
    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.shutdownNow();
        store.close();
    }
}
