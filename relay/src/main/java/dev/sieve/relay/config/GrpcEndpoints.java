package dev.sieve.relay.config;

import dev.sieve.relay.ingest.FlowIngestService;
import dev.sieve.relay.ingest.IngestHeaders;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.observer.RelayObserverService;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.tls.PeerAuthentication;
import dev.sieve.relay.tls.RelayTls;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.grpc.GrpcService;
import io.quarkus.grpc.runtime.health.GrpcHealthStorage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/** The Quarkus-managed gRPC services (separate gRPC server, :4245 by default). */
public final class GrpcEndpoints {
    private GrpcEndpoints() {}

    @GrpcService
    public static class Ingest extends FlowIngestService {
        @Inject
        public Ingest(IngestProcessor p, NodeRegistry n, RelayBeans beans) {
            super(p, n, beans.ingestPool(), beans.maxInFlightBatches());
        }
    }

    @GrpcService
    public static class Observer extends RelayObserverService {
        @Inject
        public Observer(FlowService f, NodeRegistry n, FlowStore s, RelayMetrics m) {
            super(f, n, s, m::flowsRate);
        }
    }

    /**
     * Quarkus serves grpc.health.v1.Health but answers UNKNOWN for a service it was not told about, and
     * {@code hubble status} asks for {@code hubble.server.Observer}: SERVING for it, {@code observer.Observer} and the
     * server ("") while up.
     */
    @ApplicationScoped
    public static class Health {
        /** What Hubble's servers register and {@code hubble status} checks. */
        static final String HUBBLE_SERVICE_NAME = "hubble.server.Observer";

        void started(@Observes StartupEvent e, GrpcHealthStorage health) {
            health.setStatus(GrpcHealthStorage.DEFAULT_SERVICE_NAME, ServingStatus.SERVING);
            health.setStatus(dev.sieve.api.observer.ObserverGrpc.SERVICE_NAME, ServingStatus.SERVING);
            health.setStatus(HUBBLE_SERVICE_NAME, ServingStatus.SERVING);
        }

        void stopping(@Observes ShutdownEvent e, GrpcHealthStorage health) {
            health.setStatus(dev.sieve.api.observer.ObserverGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
            health.setStatus(HUBBLE_SERVICE_NAME, ServingStatus.NOT_SERVING);
        }
    }

    @ApplicationScoped
    @GlobalInterceptor
    public static class Headers extends IngestHeaders {}

    /** Client certificates per service (see {@link PeerAuthentication}); runs before the handlers see a call. */
    @jakarta.inject.Singleton
    @GlobalInterceptor
    @jakarta.annotation.Priority(100)
    public static class Authentication extends PeerAuthentication {
        @Inject
        public Authentication(RelayTls tls) {
            super(tls);
        }
    }
}
