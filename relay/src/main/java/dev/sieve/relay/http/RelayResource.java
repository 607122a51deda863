package dev.sieve.relay.http;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.Flow;
import dev.sieve.relay.explain.FlowExplainer;
import dev.sieve.relay.explain.PolicyDescriber;
import dev.sieve.relay.ingest.LiveFlows;
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
import java.util.concurrent.atomic.AtomicBoolean;

/** REST/JSON + SSE on :12000: flows, counts over time, service map, nodes, policies, status, health, metrics. */
@Path("/")
public class RelayResource {
    @Inject FlowService flows;
    @Inject FlowStore store;
    @Inject NodeRegistry nodes;
    @Inject RelayMetrics metrics;
    @Inject FlowExplainer explainer;
    @Inject PolicyDescriber describer;
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
        // follow: subscribe before answering, so a client that sees the stream open (EventSource "open") gets
        // every flow stored from then on
        LiveFlows.Subscription sub = flows.subscribe(q);
        AtomicBoolean started = new AtomicBoolean();
        return Multi.createFrom().<String>emitter(em -> {
            // woken by the client's requests and by cancellation, not by polling
            Object demandChanged = new Object();
            Runnable wake = () -> {
                synchronized (demandChanged) {
                    demandChanged.notifyAll();
                }
            };
            em.onRequest(n -> wake.run()).onTermination(wake);
            Thread.ofVirtual().name("sse").start(() -> {
                started.set(true);
                try (sub) {
                    flows.stream(q, sub, new FlowService.Sink() {
                        /**
                         * Emits only on demand (the emitter would otherwise buffer without bound for a client that stops reading):
                         * while it waits, the live subscription's bounded queue fills and what it drops arrives as lost_events.
                         */
                        private boolean demand() throws InterruptedException {
                            synchronized (demandChanged) {
                                while (em.requested() == 0 && !em.isCancelled()) demandChanged.wait(1000);
                            }
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
            });
        }).onTermination().invoke(() -> {
            if (sub != null && !started.get()) sub.close(); // cancelled before the stream ran
        });
    }

    /**
     * Why a flow got its verdict: the connection it belongs to traced by the policy engine through the relay's
     * manifests, and for a drop what would allow it ({@link FlowExplainer}). {@code uuid} names the flow; it is
     * looked up in the store over {@code since} (default 7d) / {@code until}.
     */
    @GET
    @Path("api/v1/why")
    @Produces(MediaType.APPLICATION_JSON)
    public Response why(@Context UriInfo uri) throws StoreException {
        String uuid = uri.getQueryParameters().getFirst("uuid");
        if (uuid == null || uuid.isBlank()) throw new InvalidQueryException("uuid: the flow to explain is missing");
        jakarta.ws.rs.core.MultivaluedHashMap<String, String> p = new jakarta.ws.rs.core.MultivaluedHashMap<>();
        p.putSingle("uuid", uuid);
        p.putSingle("since", java.util.Optional.ofNullable(uri.getQueryParameters().getFirst("since")).orElse("168h"));
        String until = uri.getQueryParameters().getFirst("until");
        if (until != null) p.putSingle("until", until);
        p.putSingle("last", "1");
        List<Flow> found = store.query(QueryParams.parse(p));
        if (found.isEmpty()) {
            return Response.status(404).type(MediaType.APPLICATION_JSON).entity(Map.of("error", "no flow with uuid " + uuid + " in the time range")).build();
        }
        return Response.ok(explainer.explain(found.getFirst())).build();
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

    /**
     * The newest flows matching the filters (the {@code /api/v1/flows} parameters; default the last 20,000 of the
     * last hour) counted by port, L4 protocol and L7 protocol, each by verdict: a service-map edge's breakdown
     * (its two workloads as {@code from-namespace}/{@code from-workload}/{@code to-namespace}/{@code to-workload}).
     * A reply counts under its connection's port (its source port). {@code complete}: every matching flow was counted.
     */
    @GET
    @Path("api/v1/flows/ports")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> ports(@Context UriInfo uri) throws StoreException {
        jakarta.ws.rs.core.MultivaluedMap<String, String> p = new jakarta.ws.rs.core.MultivaluedHashMap<>(uri.getQueryParameters());
        if (!p.containsKey("last") && !p.containsKey("first") && !p.containsKey("all")) p.putSingle("last", "20000");
        if (!p.containsKey("since") && !p.containsKey("until")) p.putSingle("since", "1h");
        FlowQuery q = QueryParams.parse(p);
        if (q.follow()) throw new InvalidQueryException("follow: not for counts");
        Map<String, Map<String, Object>> by = new LinkedHashMap<>();
        long n = 0;
        for (Flow f : store.query(q)) {
            n++;
            boolean reply = f.hasIsReply() && f.getIsReply().getValue();
            var l4 = f.getL4();
            String proto;
            int port;
            if (l4.hasTCP()) { proto = "TCP"; port = reply ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort(); }
            else if (l4.hasUDP()) { proto = "UDP"; port = reply ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort(); }
            else if (l4.hasSCTP()) { proto = "SCTP"; port = reply ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort(); }
            else if (l4.hasICMPv4()) { proto = "ICMPv4"; port = 0; }
            else if (l4.hasICMPv6()) { proto = "ICMPv6"; port = 0; }
            else { proto = ""; port = 0; }
            String l7 = !f.hasL7() ? "" : f.getL7().hasHttp() ? "HTTP" : f.getL7().hasDns() ? "DNS" : f.getL7().hasKafka() ? "Kafka" : "L7";
            Map<String, Object> e = by.computeIfAbsent(proto + "/" + port + "/" + l7, k -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("port", port);
                m.put("protocol", proto);
                m.put("l7", l7);
                m.put("flows", 0L);
                m.put("verdicts", new TreeMap<String, Long>());
                return m;
            });
            e.put("flows", (Long) e.get("flows") + 1);
            @SuppressWarnings("unchecked") Map<String, Long> v = (Map<String, Long>) e.get("verdicts");
            v.merge(f.getVerdict().name(), 1L, Long::sum);
        }
        List<Map<String, Object>> out = new ArrayList<>(by.values());
        out.sort((a, b) -> Long.compare((Long) b.get("flows"), (Long) a.get("flows")));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("flows", n);
        r.put("complete", q.number() <= 0 || n < q.number());
        r.put("ports", out);
        return r;
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

    /**
     * The policies of the relay's manifests ({@code --manifests}) as the policy engine holds them: what each one's
     * selectors select now, and its rules with their peers, ports and L7 rules ({@link PolicyDescriber}).
     */
    @GET
    @Path("api/v1/policies/rules")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> policyRules() {
        return describer.describe();
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
