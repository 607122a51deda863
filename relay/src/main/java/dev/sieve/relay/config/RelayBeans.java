package dev.sieve.relay.config;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.relay.explain.FlowExplainer;
import dev.sieve.relay.explain.PolicyDescriber;
import dev.sieve.relay.explain.PolicySet;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Builds the relay's parts from configuration (flags -> -D properties, SIEVE_RELAY_* env vars, application.properties). */
@ApplicationScoped
public class RelayBeans {
    private static final Logger LOG = Logger.getLogger(RelayBeans.class);

    @ConfigProperty(name = "sieve.relay.store", defaultValue = "memory") String storeKind;
    @ConfigProperty(name = "sieve.relay.memory-capacity", defaultValue = "1000000") long memoryCapacity;
    @ConfigProperty(name = "sieve.relay.clickhouse.url", defaultValue = "http://127.0.0.1:8123") String chUrl;
    @ConfigProperty(name = "sieve.relay.clickhouse.database", defaultValue = "sieve") String chDatabase;
    @ConfigProperty(name = "sieve.relay.clickhouse.user", defaultValue = "default") String chUser;
    @ConfigProperty(name = "sieve.relay.clickhouse.password", defaultValue = "") java.util.Optional<String> chPassword;
    @ConfigProperty(name = "sieve.relay.retention-days", defaultValue = "30") int retentionDays;
    @ConfigProperty(name = "sieve.relay.clickhouse.writers", defaultValue = "2") int chWriters;
    @ConfigProperty(name = "sieve.relay.clickhouse.flush-interval", defaultValue = "1s") java.time.Duration chFlushInterval;
    @ConfigProperty(name = "sieve.relay.ingest.max-batch-flows", defaultValue = "10000") int maxBatchFlows;
    @ConfigProperty(name = "sieve.relay.ingest.max-batch-bytes", defaultValue = "16777216") long maxBatchBytes;
    @ConfigProperty(name = "sieve.relay.ingest.max-sequence-gap", defaultValue = "100000") long maxSequenceGap;
    @ConfigProperty(name = "sieve.relay.ingest.max-in-flight-batches", defaultValue = "32") int maxInFlightBatches;
    @ConfigProperty(name = "sieve.relay.ingest.max-future-skew", defaultValue = "10m") Duration maxFutureSkew;
    @ConfigProperty(name = "sieve.relay.ingest.max-flow-age", defaultValue = "0s") Duration maxFlowAge;
    @ConfigProperty(name = "sieve.relay.node-timeout", defaultValue = "60s") Duration nodeTimeout;
    @ConfigProperty(name = "sieve.relay.manifests") java.util.Optional<java.util.List<String>> manifests;
    @ConfigProperty(name = "sieve.relay.policy-mode", defaultValue = "default") String policyMode;
    @ConfigProperty(name = "sieve.relay.query.max-flows", defaultValue = "1000000") long queryMaxFlows;

    private final ExecutorService ingestPool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
            Thread.ofPlatform().name("ingest-", 0).daemon().factory());
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("retention").daemon().factory());

    @Produces
    @Singleton
    FlowStore store() {
        return switch (storeKind) {
            case "memory" -> {
                LOG.infof("flow store: memory (Arrow ring, capacity %d flows)", memoryCapacity);
                yield new MemoryFlowStore(memoryCapacity);
            }
            case "clickhouse" -> {
                LOG.infof("flow store: ClickHouse %s database %s, retention %d days, %d concurrent inserts, at most one per %s each", chUrl, chDatabase,
                        retentionDays, chWriters, chFlushInterval);
                yield new ClickHouseFlowStore(new ClickHouseFlowStore.Config(chUrl, chDatabase, chUser, chPassword.orElse(""), retentionDays,
                        chFlushInterval, ClickHouseFlowStore.DEFAULT_MAX_GROUP_ROWS, chWriters));
            }
            default -> throw new IllegalArgumentException("sieve.relay.store: unknown store \"" + storeKind + "\" (memory, clickhouse)");
        };
    }

    void closeStore(@Disposes FlowStore s) {
        s.close();
    }

    @Produces
    @Singleton
    RelayMetrics metrics() {
        return new RelayMetrics();
    }

    @Produces
    @Singleton
    LiveFlows live() {
        return new LiveFlows(10_000);
    }

    @Produces
    @Singleton
    NodeRegistry nodes() {
        return new NodeRegistry(Clock.systemUTC(), nodeTimeout);
    }

    @Produces
    @Singleton
    IngestProcessor processor(FlowStore s, LiveFlows l, NodeRegistry n, RelayMetrics m) {
        return new IngestProcessor(s, l, n, m, new IngestProcessor.Limits(maxBatchFlows, maxBatchBytes, Math.min(Math.max(1, maxSequenceGap), 1L << 40),
                maxFutureSkew, maxFlowAge));
    }

    @Produces
    @Singleton
    FlowService flowService(FlowStore s, LiveFlows l) {
        return new FlowService(s, l, queryMaxFlows);
    }

    public int maxInFlightBatches() {
        return Math.max(1, maxInFlightBatches);
    }

    /** The manifests flows are explained with (the agents' --manifests folders); none: "why" answers unavailable. */
    @Produces
    @Singleton
    PolicySet policySet() {
        java.util.List<java.nio.file.Path> paths = manifests.orElse(java.util.List.of()).stream().filter(x -> !x.isBlank())
                .map(java.nio.file.Path::of).toList();
        for (java.nio.file.Path p : paths) {
            if (!java.nio.file.Files.exists(p)) throw new IllegalArgumentException("sieve.relay.manifests: " + p + " does not exist");
        }
        PolicySet set = new PolicySet(paths, EnforcementMode.parse(policyMode));
        if (set.configured()) set.get();
        return set;
    }

    @Produces
    @Singleton
    FlowExplainer explainer(PolicySet set) {
        return new FlowExplainer(set);
    }

    @Produces
    @Singleton
    PolicyDescriber policyDescriber(PolicySet set) {
        return new PolicyDescriber(set);
    }

    public ExecutorService ingestPool() {
        return ingestPool;
    }

    void start(@Observes StartupEvent ev, FlowStore s) {
        if (s instanceof ClickHouseFlowStore ch) {
            try {
                LOG.infof("ClickHouse schema at version %d", ch.migrate());
            } catch (Exception e) {
                LOG.warnf("ClickHouse not reachable at startup (%s); ingest answers RETRY until it is", e.getMessage());
            }
        }
        timer.scheduleWithFixedDelay(() -> {
            try {
                var dropped = s.enforceRetention(Instant.now());
                if (!dropped.isEmpty()) LOG.infof("retention: dropped %s", dropped);
            } catch (Exception e) {
                LOG.warnf("retention: %s", e.getMessage());
            }
        }, 1, 3600, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent ev) {
        timer.shutdownNow();
        ingestPool.shutdown();
    }
}
