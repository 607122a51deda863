package dev.sieve.relay.http;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.Flow;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.observer.FlowService;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import io.smallrye.mutiny.Multi;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** REST/JSON + SSE on :12000: flows, counts over time, service map, nodes, policies, status, health, metrics. */
@Path("/")
public class RelayResource {
  @Inject FlowService flows;
  @Inject FlowStore store;
  @Inject NodeRegistry nodes;
  @Inject RelayMetrics metrics;
  @Inject @io.quarkus.grpc.GrpcService dev.sieve.relay.config.GrpcEndpoints.Observer observer;

  /** Flows as a JSON array of Hubble jsonpb objects, oldest first. */
  @GET
  @Path("api/v1/flows")
  @Produces(MediaType.APPLICATION_JSON)
  public String flows(@Context UriInfo uri) throws StoreException {
    FlowQuery q = QueryParams.parse(uri.getQueryParameters());
    if (q.follow()) throw new InvalidQueryException("follow: use /api/v1/flows/stream (Server-Sent Events)");
    FlowQuery bounded = flows.bounded(q);
    List<Flow> found = store.query(bounded);
    if (bounded.number() != q.number() && found.size() > flows.maxFlows()) throw flows.tooMany();
    StringBuilder b = new StringBuilder("[");
    for (Flow f : found) b.append(b.length() > 1 ? ",\n" : "").append(HubbleJson.print(f));
    return b.append("]\n").toString();
  }

  /** Server-Sent Events: event "flow" (Hubble jsonpb), "lost" ({"lost": n}); with follow=true it stays open. */
  @GET
  @Path("api/v1/flows/stream")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  public Multi<String> stream(@Context UriInfo uri) {
    FlowQuery q = QueryParams.parse(uri.getQueryParameters());
    return Multi.createFrom().emitter(em -> Thread.ofVirtual().name("sse").start(() -> {
      try {
        flows.stream(q, new FlowService.Sink() {
          /**
           * Emits only on demand (the emitter would otherwise buffer without bound for a client that stops reading):
           * while it waits, the live subscription's bounded queue fills and what it drops arrives as lost_events.
           */
          private boolean demand() throws InterruptedException {
            while (em.requested() == 0 && !em.isCancelled()) Thread.sleep(1);
            return !em.isCancelled();
          }

          @Override
          public boolean flow(Flow f) throws InterruptedException {
            if (!demand()) return false;
            em.emit(HubbleJson.print(f));
            return true;
          }

          @Override
          public boolean lost(long n, boolean atNode) throws InterruptedException {
            if (!demand()) return false;
            em.emit("{\"lost_events\":{\"num_events_lost\":" + n + "}}");
            return true;
          }

          @Override
          public boolean cancelled() {
            return em.isCancelled();
          }
        });
        em.complete();
      } catch (Exception e) {
        em.fail(e);
      }
    }));
  }

  private static Instant since(UriInfo uri, String dflt) {
    String s = uri.getQueryParameters().getFirst("since");
    return QueryParams.time(s == null ? dflt : s, Instant.now(), "since");
  }

  private static Instant until(UriInfo uri) {
    return QueryParams.time(uri.getQueryParameters().getFirst("until"), Instant.now(), "until");
  }

  /** Flow counts per time bucket (default 1m over the last hour), by verdict. */
  @GET
  @Path("api/v1/flows/counts")
  @Produces(MediaType.APPLICATION_JSON)
  public List<Aggregates.Bucket> counts(@Context UriInfo uri) throws StoreException {
    String bucket = uri.getQueryParameters().getFirst("bucket");
    return store.counts(since(uri, "1h"), until(uri), bucket == null ? Duration.ofMinutes(1) : QueryParams.duration(bucket, "bucket"),
        uri.getQueryParameters().getFirst("namespace"));
  }

  /** Service map: workloads as nodes, edges with counts by verdict (default: the last hour). */
  @GET
  @Path("api/v1/service-map")
  @Produces(MediaType.APPLICATION_JSON)
  public Map<String, Object> serviceMap(@Context UriInfo uri) throws StoreException {
    List<Aggregates.Edge> edges = store.serviceMap(since(uri, "1h"), until(uri), uri.getQueryParameters().getFirst("namespace"));
    Map<String, Map<String, Object>> nodesById = new TreeMap<>();
    List<Map<String, Object>> es = new ArrayList<>();
    for (Aggregates.Edge e : edges) {
      String s = e.srcNamespace() + "/" + e.srcWorkload(), d = e.dstNamespace() + "/" + e.dstWorkload();
      node(nodesById, s, e.srcNamespace(), e.srcWorkload(), e.flows());
      node(nodesById, d, e.dstNamespace(), e.dstWorkload(), e.flows());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("source", s);
      m.put("destination", d);
      m.put("flows", e.flows());
      m.put("verdicts", e.byVerdict());
      es.add(m);
    }
    return Map.of("nodes", List.copyOf(nodesById.values()), "edges", es);
  }

  private static void node(Map<String, Map<String, Object>> by, String id, String ns, String wl, long flows) {
    Map<String, Object> n = by.computeIfAbsent(id, k -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("id", id);
      m.put("namespace", ns);
      m.put("workload", wl);
      m.put("flows", 0L);
      return m;
    });
    n.put("flows", (Long) n.get("flows") + flows);
  }

  @GET
  @Path("api/v1/policies")
  @Produces(MediaType.APPLICATION_JSON)
  public List<Aggregates.PolicyUse> policies(@Context UriInfo uri) throws StoreException {
    return store.policies(since(uri, "1h"), until(uri));
  }

  @GET
  @Path("api/v1/nodes")
  @Produces(MediaType.APPLICATION_JSON)
  public List<NodeRegistry.NodeInfo> nodes() {
    return nodes.nodes();
  }

  @GET
  @Path("api/v1/status")
  @Produces(MediaType.APPLICATION_JSON)
  public String status() throws StoreException {
    return HubbleJson.print(observer.status());
  }

  @GET
  @Path("healthz")
  @Produces(MediaType.TEXT_PLAIN)
  public String healthz() {
    return "ok\n";
  }

  @GET
  @Path("readyz")
  @Produces(MediaType.TEXT_PLAIN)
  public Response readyz() {
    boolean ok = store.ready();
    return Response.status(ok ? 200 : 503).entity(ok ? "ready\n" : "store " + store.kind() + " not ready\n").build();
  }

  @GET
  @Path("metrics")
  @Produces("text/plain; version=0.0.4")
  public String metrics() {
    StringBuilder b = new StringBuilder();
    metrics.write(b);
    if (store instanceof ClickHouseFlowStore ch) {
      RelayMetrics.help(b, "sieve_relay_clickhouse_errors_total", "counter", "Failed ClickHouse requests.");
      b.append("sieve_relay_clickhouse_errors_total ").append(ch.errors()).append('\n');
    }
    if (store instanceof dev.sieve.relay.store.memory.MemoryFlowStore) {
      RelayMetrics.help(b, "sieve_relay_store_flows", "gauge", "Flows held by the memory store.");
      try {
        b.append("sieve_relay_store_flows ").append(store.size()).append('\n');
      } catch (StoreException e) {
        // not for memory
      }
    }
    RelayMetrics.help(b, "sieve_relay_node_connected", "gauge", "1 while the node has a stream open or pushed recently.");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_connected{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.connected() ? 1 : 0).append('\n');
    RelayMetrics.help(b, "sieve_relay_node_flows_total", "counter", "Flows stored per node.");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_flows_total{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.flows()).append('\n');
    RelayMetrics.help(b, "sieve_relay_node_lost_flows_total", "counter", "Flows nodes reported as discarded (spool full).");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_lost_flows_total{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.lostFlows()).append('\n');
    RelayMetrics.help(b, "sieve_relay_node_spool_batches", "gauge", "Unacknowledged batches the node reported holding when its stream opened (-1 = not reported).");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_spool_batches{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.spoolBatches()).append('\n');
    RelayMetrics.help(b, "sieve_relay_node_spool_bytes", "gauge", "Spool bytes the node reported when its stream opened (-1 = not reported).");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_spool_bytes{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.spoolBytes()).append('\n');
    RelayMetrics.help(b, "sieve_relay_node_batch_delay_seconds", "gauge", "Age of the node's last batch when it arrived (time spent in the spool).");
    for (var n : nodes.nodes()) b.append("sieve_relay_node_batch_delay_seconds{node=\"").append(RelayMetrics.label(n.name())).append("\"} ").append(n.lastBatchDelayMs() / 1000.0).append('\n');
    return b.toString();
  }

  @Provider
  public static class BadQuery implements ExceptionMapper<InvalidQueryException> {
    @Override
    public Response toResponse(InvalidQueryException e) {
      return Response.status(400).type(MediaType.APPLICATION_JSON).entity(Map.of("error", e.getMessage())).build();
    }
  }

  @Provider
  public static class StoreDown implements ExceptionMapper<StoreException> {
    @Override
    public Response toResponse(StoreException e) {
      return Response.status(503).type(MediaType.APPLICATION_JSON).entity(Map.of("error", e.getMessage())).build();
    }
  }
}
