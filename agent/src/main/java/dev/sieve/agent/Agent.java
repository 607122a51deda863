package dev.sieve.agent;

import dev.sieve.agent.source.DirectorySource;
import dev.sieve.agent.source.ManifestSource;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.datapath.ProxyRouting;
import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.events.AgentEventHub;
import dev.sieve.observer.events.AgentStateEvents;
import dev.sieve.observer.metrics.FlowMetrics;
import dev.sieve.observer.metrics.MetricsServer;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.observer.server.ObserverServer;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.dns.DnsProxy;
import dev.sieve.proxy.dns.DnsProxyConfig;
import dev.sieve.proxy.dns.TransparentDnsDatagrams;
import dev.sieve.proxy.http.HttpProxyProtocol;
import dev.sieve.proxy.kafka.KafkaProxyProtocol;
import dev.sieve.proxy.transparent.NodeProxy;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node agent: one process that keeps the kernel in step with policy (engine -> datapath) and turns
 * every verdict event into a flow (ring buffer -> enrich -> flow buffer -> Observer API, metrics, relay).
 *
 * <p>Threads: the manifest watcher applies changes; a resync timer retries pods whose interface was not
 * there yet; one reader drains the ring buffer. Engine and datapath updates and enrichment share one lock.
 */
public final class Agent implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Agent.class.getName());
    /** The datapath does not wake the reader per event; this is how long an event waits at most. */
    private static final int EVENT_POLL_MS = 20;

    /** How often the full datapath sync runs even when nothing changed (the consistency pass). */
    private static final int CONSISTENCY_PASS_SECONDS = 60;
    private static final int CONNECTION_POLICY_CACHE = 4096;

    private final AgentOptions options;
    private TransparentDnsDatagrams dnsDatagrams; // set once while the constructor registers the proxies
    private final Object lock = new Object();
    /** The engine's generation as of its last change (volatile: read without the lock). */
    private volatile long engineGeneration = -1;
    private final ConcurrentHashMap<ConnectionKey, CachedConnectionPolicy> connectionPolicies = new ConcurrentHashMap<>();
    private final LocalIdentityAllocator identities;
    private final PolicyEngine engine;
    private final ManifestSource source;
    private final Datapath datapath;
    private final EndpointManager endpoints;
    private final FlowRing ring;
    private final FlowMetrics metrics = new FlowMetrics();
    private final FlowEnricher enricher;
    private final FlowEnricher l7Enricher; // the proxies' events, on the L7 publisher's thread
    private final L7FlowPublisher l7Flows;
    private final NetNs netns;
    private final NodeProxy proxy;
    private final Tracer tracer;
    private final AgentEventHub agentEvents;
    private final AgentStateEvents stateEvents;
    private final ObserverServer observer;
    private final MetricsServer metricsServer;
    private final VerdictEventReader reader;
    private final RelayPusher relay;
    private final Thread readerThread;
    private final Thread resyncThread;
    private final dev.sieve.agent.fqdn.AgentFqdnLearner fqdn;
    private final AtomicLong invalidManifests = new AtomicLong();
    private final AtomicLong appliedChanges = new AtomicLong();
    private volatile double lastComputeSeconds;
    private volatile boolean closed;
    /** Map fill levels, walked at most every 10 s (a large conntrack takes a while to count). */
    private final java.util.function.Supplier<Map<String, Double>> mapPressure;

    private static <T> java.util.function.Supplier<T> cached(java.util.function.Supplier<T> s, long millis) {
        return new java.util.function.Supplier<>() {
            private T value;
            private long at;

            @Override
            public synchronized T get() {
                long now = System.currentTimeMillis();
                if (value == null || now - at >= millis) {
                    value = s.get();
                    at = now;
                }
                return value;
            }
        };
    }

    public Agent(AgentOptions options) throws Exception {
        this.options = options;
        this.identities = new LocalIdentityAllocator(options.stateDir().resolve("identities"));
        this.engine = new PolicyEngine(identities, options.enforcement(), options.nodeName());
        this.source = new DirectorySource(options.manifests());
        DatapathConfig dc = DatapathConfig.of(options.pinPrefix()).withAggregation(options.aggregation())
                .withLocalDelivery(options.localDelivery()).withMapSizes(options.mapSizes());
        this.netns = options.netns() != null ? NetNs.named(options.netns()) : NetNs.current();
        dc = dc.withNetns(netns);
        this.datapath = Datapath.open(dc);
        this.mapPressure = cached(datapath::mapPressure, 10_000);
        this.tracer = new Tracer(engine);
        this.ring = new FlowRing(options.flowBuffer());
        EndpointResolver resolver = lockedResolver(new PolicyEngineResolver(engine));
        this.enricher = new FlowEnricher(resolver, options.nodeName(), FlowEnricher.monotonicToEpoch());
        this.l7Enricher = new FlowEnricher(resolver, options.nodeName(), FlowEnricher.monotonicToEpoch());
        this.l7Flows = new L7FlowPublisher(L7FlowPublisher.CAPACITY, this::publishL7, n -> {
            ring.recordLost(n);
            metrics.lost(dev.sieve.api.flow.LostEventSource.OBSERVER_EVENTS_QUEUE, n);
        });
        // The L7 proxy, in this process: its listeners in the datapath's namespace, its ports in the policy entries.
        ProxyRouting.install(netns);
        this.proxy = new NodeProxy(new NodeProxy.Settings(options.proxyPortLow(), options.proxyPortHigh(), proxyStateFile(),
                netns.threadFactory("sieve-proxy"), NodeProxy.defaultEventLoops(), true), this::connectionPolicy, this::l7Event);
        proxy.start();
        for (String uplink : uplinks()) { // replies from outside the node to the proxy's upstream connections
            try {
                datapath.attachUplink(uplink);
            } catch (RuntimeException e) {
                LOG.warning("proxy uplink " + uplink + ": " + e.getMessage() + "; egress L7 connections to peers behind it will fail");
            }
        }
        this.endpoints = new EndpointManager(datapath, options.nodeName(),
                (protocol, direction) -> proxy.port(protocol, direction == dev.sieve.policy.model.Direction.INGRESS));
        this.relay = options.relay() == null ? null
                : new RelayPusher(options.relay(), options.nodeName(), options.spoolDir(), 256L << 20, RelayPusher.Settings.DEFAULT,
                        options.relayTls());
        this.lostReported = datapath.lostEvents();
        this.fqdn = new dev.sieve.agent.fqdn.AgentFqdnLearner(engine, lock,
                (generationBefore, hosts, peers) -> {
                    endpoints.syncAddresses(engine, generationBefore, hosts, peers);
                    engineGeneration = engine.generation();
                },
                dev.sieve.agent.fqdn.AgentFqdnLearner.conntrackOf(datapath.config().pinDir()), options.fqdn());
        enricher.setNameResolver(fqdn::names);
        l7Enricher.setNameResolver(fqdn::names);
        registerProtocols();
        registerGauges();
        this.agentEvents = new AgentEventHub(options.nodeName());
        this.stateEvents = new AgentStateEvents(agentEvents, options.nodeName());
        stateEvents.started();

        try {
            apply(source.read());
        } catch (ValidationException e) {
            // Nothing valid to apply: what is pinned in the kernel stays in force until a valid set arrives.
            rejected(e);
        }
        this.reader = datapath.openEventReader(view -> publish(enricher.enrich(view.toEvent())));
        this.readerThread = Thread.ofPlatform().name("sieve-events").daemon().start(this::readEvents);
        this.observer = ObserverServer.start(options.observerAddress(), ring, agentEvents, options.nodeName(), Version.VERSION,
                options.observerTls());
        this.metricsServer = MetricsServer.start(options.metricsAddress(), metrics);
        metricsServer.serveJson("/v1/fqdn/cache", fqdn::toJson);
        source.start(new ManifestSource.Listener() {
            @Override
            public void onUpdate(ManifestSet set) {
                apply(set);
            }

            @Override
            public void onInvalid(ValidationException e) {
                rejected(e);
            }
        });
        this.resyncThread = Thread.ofPlatform().name("sieve-resync").daemon().start(this::resyncLoop);
        LOG.info(() -> "sieve-agent " + options.nodeName() + ": observer on " + observer.port() + ", metrics on "
                + metricsServer.address() + ", " + endpoints.attached().size() + " endpoints attached");
    }

    /**
     * The policy of a connection the datapath redirected to the proxy, as the engine has it now: computed under the
     * agent's lock once per engine generation and kept, so the proxies' threads (a DNS query each time) do not
     * wait for the lock while the engine does not change.
     */
    private ConnectionPolicy connectionPolicy(InetAddress client, InetAddress server, int l4Protocol, int port) {
        ConnectionKey key = new ConnectionKey(client, server, l4Protocol, port);
        long generation = engineGeneration;
        CachedConnectionPolicy c = connectionPolicies.get(key);
        if (c != null && c.generation() == generation) return c.policy();
        synchronized (lock) {
            generation = engine.generation();
            ConnectionPolicy policy = tracer.connection(peer(client), peer(server), l4Protocol, port);
            if (connectionPolicies.size() >= CONNECTION_POLICY_CACHE) connectionPolicies.clear();
            connectionPolicies.put(key, new CachedConnectionPolicy(generation, policy));
            return policy;
        }
    }

    private record ConnectionKey(InetAddress client, InetAddress server, int l4Protocol, int port) {}

    private record CachedConnectionPolicy(long generation, ConnectionPolicy policy) {}

    private Tracer.ResolvedPeer peer(InetAddress a) {
        byte[] addr = a.getAddress();
        var ep = engine.endpointByIp(addr);
        return new Tracer.ResolvedPeer(a.getHostAddress(), ep != null ? ep.identity() : engine.identity(engine.identityOf(addr)), ep);
    }

    /** A proxy's event, from its I/O thread: queued for the publisher's thread. */
    private void l7Event(L7Event e) {
        l7Flows.accept(e);
    }

    /** On the publisher's thread: a Hubble L7 flow, into the flow buffer, metrics and relay like any flow. */
    private void publishL7(L7Event e) {
        Flow f;
        synchronized (l7Enricher) {
            f = l7Enricher.enrich(e);
        }
        publish(f);
    }

    /**
     * A flow, from the datapath's reader or a proxy thread, into the flow buffer (one writer at a time: the ring
     * is single-writer), the metrics and the relay (which never blocks: unacknowledged batches wait in the spool).
     */
    private void publish(Flow f) {
        synchronized (ring) {
            ring.append(f);
        }
        metrics.observe(f);
        if (relay != null) relay.offer(f);
    }

    /** --proxy-uplinks, or the interfaces of the namespace's default routes. */
    private List<String> uplinks() {
        if (options.proxyUplinks() != null) return options.proxyUplinks();
        return ProxyRouting.defaultRouteInterfaces(netns);
    }

    /** Where the proxy remembers its ports between runs (like the pins, gone at reboot). */
    private Path proxyStateFile() {
        return options.stateDir().resolve("proxy-ports");
    }

    /** The node's L7 proxy: protocols plug in with {@link NodeProxy#tcp} / {@link NodeProxy#udp}. */
    public NodeProxy proxy() {
        return proxy;
    }

    private EndpointResolver lockedResolver(EndpointResolver r) {
        return new EndpointResolver() {
            @Override
            public List<String> identityLabels(int id) {
                synchronized (lock) {
                    return r.identityLabels(id);
                }
            }

            @Override
            public PodRef podByAddress(byte[] address) {
                synchronized (lock) {
                    return r.podByAddress(address);
                }
            }

            @Override
            public PolicyRef rule(int ruleId) {
                synchronized (lock) {
                    return r.rule(ruleId);
                }
            }

            @Override
            public int identityOf(byte[] address) {
                synchronized (lock) {
                    return r.identityOf(address);
                }
            }

            @Override
            public long generation() {
                return engineGeneration; // written under the lock after every change of the engine
            }
        };
    }

    /** Applies a valid manifest set: engine first (only differences), then the datapath. */
    void apply(ManifestSet set) {
        synchronized (lock) {
            long start = System.nanoTime();
            engine.sync(set);
            fqdn.resync(); // learned FQDN addresses follow their endpoints' identities (and come back after a restart)
            lastComputeSeconds = (System.nanoTime() - start) / 1e9;
            identities.flush(); // numbers are on disk before the kernel holds them (F16)
            EndpointManager.SyncReport r = endpoints.sync(engine);
            engineGeneration = engine.generation();
            appliedChanges.incrementAndGet();
            stateEvents.update(engine, endpoints::endpointId);
            LOG.info(() -> "applied manifests: " + r.endpoints() + " endpoints (" + r.attached() + " attached, " + r.detached()
                    + " detached), " + r.policyChanges() + " policy key changes, " + r.ipcacheChanges() + " ipcache changes in "
                    + String.format("%.1f ms", lastComputeSeconds * 1000));
        }
    }

    private void rejected(ValidationException e) {
        invalidManifests.incrementAndGet();
        StringBuilder sb = new StringBuilder("manifests rejected, the previous valid set stays in force:");
        for (ValidationError ve : e.errors()) sb.append("\n  ").append(ve);
        LOG.warning(sb.toString());
    }

    private void readEvents() {
        long backoffMs = 0;
        while (!closed) {
            try {
                reader.poll(EVENT_POLL_MS);
                backoffMs = 0;
            } catch (RuntimeException e) {
                if (closed) return;
                // a persistent error must not spin a core and flood the log: back off up to a second
                backoffMs = Math.min(1000, Math.max(10, backoffMs * 2));
                LOG.log(Level.WARNING, "reading verdict events failed (retrying in " + backoffMs + " ms)", e);
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Retries pods whose interface appeared after their manifest (a CNI that is slower than us). */
    private void resyncLoop() {
        long passes = 0;
        while (!closed) {
            try {
                Thread.sleep(1000);
                synchronized (lock) {
                    if (++passes % CONSISTENCY_PASS_SECONDS == 0) {
                        // the full comparison behind the incremental writes of learned addresses
                        EndpointManager.SyncReport r = endpoints.resync(engine);
                        if (r != null && r.policyChanges() + r.ipcacheChanges() > 0) {
                            LOG.info("consistency pass: the maps differed from the engine by " + r.policyChanges()
                                    + " policy keys and " + r.ipcacheChanges() + " ipcache entries (rewritten)");
                        }
                    } else {
                        endpoints.syncIfNeeded(engine);
                    }
                }
                reportLostEvents();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "resync failed", e);
            }
        }
    }

    /** The datapath's lost-event counter is pinned and cumulative: what it held at start was reported by earlier runs. */
    private long lostReported;

    /** Events the datapath could not put into the full ring buffer: counted in the flow buffer and the metrics. */
    void reportLostEvents() {
        long lost = datapath.lostEvents();
        if (lost > lostReported) {
            ring.recordLost(lost - lostReported);
            metrics.lost(LostEventSource.PERF_EVENT_RING_BUFFER, lost - lostReported);
            LOG.warning("datapath lost " + (lost - lostReported) + " verdict events to a full ring buffer");
            lostReported = lost;
        }
    }

    /** Hubble's DropReason name of a datapath drop reason (0xffff: a reason without a counter of its own). */
    static String dropReasonName(int reason) {
        var r = dev.sieve.api.flow.DropReason.forNumber(reason);
        return r != null ? r.name() : "DROP_REASON_UNKNOWN";
    }

    /** Hubble's FlowProtocol name of an L4 protocol number. */
    static String l4Name(int protocol) {
        return switch (protocol) {
            case 6 -> "TCP";
            case 17 -> "UDP";
            case 132 -> "SCTP";
            case 1 -> "ICMPv4";
            case 58 -> "ICMPv6";
            default -> "Unknown L4";
        };
    }

    /** The L7 protocols the node proxy speaks; one instance of each serves every listener of its protocol. */
    private void registerProtocols() {
        proxy.tcp(L7Rules.L7Protocol.HTTP, new HttpProxyProtocol());
        proxy.tcp(L7Rules.L7Protocol.KAFKA, new KafkaProxyProtocol());
        // queries over UDP leave through the datagram's own transparent socket (TransparentDnsDatagrams)
        DnsProxy dns = new DnsProxy(this::connectionPolicy, fqdn, this::l7Event,
                (client, server, q) -> java.util.concurrent.CompletableFuture.failedFuture(
                        new IllegalStateException("the node's DNS over UDP goes through TransparentDnsDatagrams")), new DnsProxyConfig(
                DnsProxyConfig.parseRejectCode(options.fqdn().rejectCode()), DnsProxyConfig.DEFAULT.upstreamTimeout()));
        dnsDatagrams = new TransparentDnsDatagrams(dns);
        proxy.udp(L7Rules.L7Protocol.DNS, dnsDatagrams);
        proxy.tcp(L7Rules.L7Protocol.DNS, dns.tcp());
    }

    private void registerGauges() {
        metrics.gauge("sieve_policy_invalid_manifests_total", "Manifest changes rejected by validation", "", invalidManifests::get);
        metrics.gauge("sieve_policy_applied_total", "Valid manifest sets applied", "", appliedChanges::get);
        metrics.gauge("sieve_manifest_watcher_up", "1 while manifest changes are watched", "", () -> source.alive() ? 1 : 0);
        metrics.gauge("sieve_manifest_watch_errors_total", "Failures to read or watch the manifests (each retried)", "", source::watchErrors);
        metrics.gauge("sieve_policy_computation_seconds", "Time of the last policy computation and datapath sync", "", () -> lastComputeSeconds);
        metrics.gauge("sieve_endpoint_attach_errors_total", "Failed attaches to pod interfaces", "", endpoints::attachErrors);
        metrics.gauge("sieve_endpoints", "Endpoints the datapath enforces", "", () -> endpoints.attached().size());
        metrics.gauge("sieve_map_entries", "Entries in the ipcache map", "map=\"ipcache\"", () -> datapath.ipcache().size());
        metrics.setDatapathDrops(() -> datapath.drops().entrySet().stream().map(e -> new FlowMetrics.DatapathDrop(
                dropReasonName(e.getKey().dropReason()), l4Name(e.getKey().protocol()), e.getValue().packets())).toList());
        metrics.gauge("sieve_drop_events_suppressed_total", "Drop events not reported: the connection's drop was reported "
                + "less than a second ago (its packets still count in hubble_drop_total)", "", datapath::suppressedDropEvents);
        metrics.gauge("sieve_datapath_sync_errors_total", "Datapath writes that failed (map entries, endpoints); each is retried", "",
                endpoints::syncErrors);
        metrics.gauge("sieve_endpoints_not_ready", "Endpoints dropping all traffic because they could not be fully programmed", "",
                endpoints::notReadyEndpoints);
        metrics.gauge("sieve_stale_endpoints_collected_total", "Pinned endpoints of pods gone while the agent was down, removed", "",
                endpoints::staleCollected);
        for (String map : datapath.mapCapacities().keySet()) {
            metrics.gauge("sieve_bpf_map_pressure", "Fill level of a BPF map, 0 to 1 (Cilium's cilium_bpf_map_pressure)",
                    "map_name=\"" + map + "\"", () -> mapPressure.get().getOrDefault(map, 0.0));
        }
        metrics.gauge("sieve_flow_buffer_flows", "Flows in the node's buffer", "", ring::size);
        dev.sieve.agent.fqdn.FqdnMetrics.register(metrics, fqdn);
        metrics.gauge("sieve_datapath_syncs_total", "Datapath syncs: full (every map compared with the engine) or incremental (learned addresses only)",
                "path=\"full\"", endpoints::fullSyncs);
        metrics.gauge("sieve_datapath_syncs_total", "Datapath syncs: full (every map compared with the engine) or incremental (learned addresses only)",
                "path=\"incremental\"", endpoints::incrementalSyncs);
        metrics.gauge("sieve_proxy_listening", "1 while the node proxy's listeners are open", "", () -> proxy.listening() ? 1 : 0);
        metrics.gauge("sieve_proxy_listeners_reopened_total", "Proxy listeners opened again after a failure", "", proxy::reopened);
        var proxyStats = proxy.stats();
        proxy.ports().forEach((l, port) -> metrics.gauge("sieve_proxy_port", "The port of each proxy listener", "listener=\"" + l + "\"", () -> port));
        proxyStats.forEach((l, s) -> metrics.gauge("sieve_proxy_redirected_total", "Connections and datagrams handed to the L7 protocol", "listener=\"" + l + "\"", s::redirected));
        proxyStats.forEach((l, s) -> metrics.gauge("sieve_proxy_refused_total", "Redirected connections closed without a protocol or policy (fail closed)", "listener=\"" + l + "\"", s::refused));
        proxyStats.forEach((l, s) -> metrics.gauge("sieve_proxy_listener_errors_total", "Policy lookups and protocol handlers that failed, per listener (sieve_proxy_errors_total counts L7 flows with verdict ERROR)", "listener=\"" + l + "\"", s::errors));
        if (relay != null) {
            metrics.gauge("sieve_relay_connected", "1 while the relay stream is up", "", () -> relay.connected() ? 1 : 0);
            metrics.gauge("sieve_relay_pending_batches", "Batches waiting for the relay's acknowledgement", "", relay::pendingBatches);
            metrics.gauge("sieve_relay_spool_bytes", "Unacknowledged batches spilled to disk", "", relay::spoolBytesOnDisk);
            metrics.gauge("sieve_relay_lost_flows_total", "Flows dropped: spool full or rejected by the relay", "", relay::lostFlows);
            metrics.gauge("sieve_spool_dropped_flows_total", "Flows the spool dropped: full, a failed disk write, a corrupted file", "", relay::spoolDroppedFlows);
            metrics.gauge("sieve_spool_corrupt_records_total", "Spool files found torn or corrupted and skipped", "", relay::spoolCorruptRecords);
        }
    }

    /** How many valid manifest sets have been applied (engine and datapath both updated). */
    public long appliedCount() {
        return appliedChanges.get();
    }

    /** How many manifest changes were rejected by validation. */
    public long rejectedCount() {
        return invalidManifests.get();
    }

    public int metricsPort() {
        return metricsServer.address().getPort();
    }

    public int observerPort() {
        return observer.port();
    }

    /** The push to the relay, or null when the agent runs without one. */
    public RelayPusher relay() {
        return relay;
    }

    /** DNS over UDP through the node proxy (its upstream sockets, for tests). */
    public TransparentDnsDatagrams dnsDatagrams() {
        return dnsDatagrams;
    }

    /** The datapath's endpoint programming (its sync counters, for benchmarks and tests). */
    public EndpointManager endpointManager() {
        return endpoints;
    }

    /** The kernel's ipcache as it is now, prefix ("10.0.0.1/32") to identity. */
    public Map<String, Integer> datapathIpcache() {
        Map<String, Integer> out = new java.util.LinkedHashMap<>();
        datapath.ipcache().forEach((k, v) -> out.put(k.toString(), v));
        return out;
    }

    /** What the DNS proxy calls with every answer before releasing it (learns toFQDNs addresses). */
    public dev.sieve.agent.fqdn.AgentFqdnLearner fqdnLearner() {
        return fqdn;
    }

    public FlowRing ring() {
        return ring;
    }

    @Override
    public void close() throws Exception {
        closed = true;
        source.close();
        if (resyncThread != null) resyncThread.interrupt();
        observer.close();
        metricsServer.close();
        if (readerThread != null) readerThread.join(2000);
        // freeing the ring buffer under a reader still inside ring_buffer__poll would crash the JVM: leak it instead
        if (readerThread == null || !readerThread.isAlive()) reader.close();
        else LOG.warning("the event reader did not stop within 2 s; its ring buffer is left to the process exit");
        proxy.close();
        l7Flows.close(); // the proxies' last events become flows before the relay closes
        fqdn.close();
        if (options.cleanupOnExit()) fqdn.deleteState();
        if (relay != null) relay.close(); // what the relay has not acknowledged goes to the spool directory
        if (options.cleanupOnExit()) {
            ProxyRouting.remove(netns);
            for (String uplink : uplinks()) {
                try {
                    datapath.detach(uplink);
                } catch (RuntimeException e) {
                    // gone already
                }
            }
            // tests and demos: remove what this agent attached; otherwise the pinned state keeps enforcing
            synchronized (lock) {
                for (String ifname : endpoints.attached().values()) {
                    try {
                        datapath.detach(ifname);
                    } catch (RuntimeException e) {
                        // the pod may be gone already
                    }
                }
            }
        }
        datapath.close();
        if (options.cleanupOnExit()) {
            deleteTree(options.stateDir());
            try {
                Datapath.unpinAll(datapath.config()); // tests and demos: the pinned maps go too
            } catch (RuntimeException e) {
                LOG.warning("cannot remove the pinned maps: " + e.getMessage());
            }
        }
    }

    private static void deleteTree(java.nio.file.Path dir) {
        if (!java.nio.file.Files.exists(dir)) return;
        try (var walk = java.nio.file.Files.walk(dir)) {
            for (java.nio.file.Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            LOG.warning("cannot remove " + dir + ": " + e.getMessage());
        }
    }

    public static void main(String[] args) {
        NodeProxy.leakSamplingOffUnlessConfigured();
        AgentOptions options;
        try {
            options = AgentOptions.parse(args, System.getenv());
        } catch (AgentOptions.BadOption e) {
            if (!e.getMessage().equals("help")) System.err.println("sieve-agent: " + e.getMessage());
            System.err.print(AgentOptions.USAGE);
            System.exit(e.getMessage().equals("help") ? 0 : 2);
            return;
        }
        try {
            Agent agent = new Agent(options);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    agent.close();
                } catch (Exception e) {
                    // exiting anyway
                }
            }));
            Thread.currentThread().join();
        } catch (Exception e) {
            System.err.println("sieve-agent: " + e.getMessage());
            System.exit(1);
        }
    }

    /** The agent's version, from the jar. */
    static final class Version {
        static final String VERSION = String.valueOf(Agent.class.getPackage().getImplementationVersion());
    }
}
