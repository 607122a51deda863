package dev.sieve.relay.config;

import dev.sieve.relay.ingest.FlowIngestService;
import dev.sieve.relay.ingest.IngestHeaders;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.observer.RelayObserverService;
import dev.sieve.relay.store.FlowStore;
import io.quarkus.grpc.GlobalInterceptor;
import io.quarkus.grpc.GrpcService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/** The Quarkus-managed gRPC services (separate gRPC server, :4245 by default). */
public final class GrpcEndpoints {
  private GrpcEndpoints() {}

  @GrpcService
  public static class Ingest extends FlowIngestService {
    @Inject
    public Ingest(IngestProcessor p, NodeRegistry n, RelayBeans beans) {
      super(p, n, beans.ingestPool());
    }
  }

  @GrpcService
  public static class Observer extends RelayObserverService {
    @Inject
    public Observer(FlowService f, NodeRegistry n, FlowStore s, RelayMetrics m) {
      super(f, n, s, m::flowsRate);
    }
  }

  @ApplicationScoped
  @GlobalInterceptor
  public static class Headers extends IngestHeaders {}
}
