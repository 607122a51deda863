package dev.sieve.agent;

import dev.sieve.agent.source.DirectorySource;
import dev.sieve.agent.source.ManifestSource;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.LostEventSource;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.enrich.EndpointResolver;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.PolicyEngineResolver;
import dev.sieve.observer.events.AgentEventHub;
import dev.sieve.observer.events.AgentStateEvents;
import dev.sieve.observer.metrics.FlowMetrics;
import dev.sieve.observer.metrics.MetricsServer;
import dev.sieve.observer.relay.RelayPusher;
import dev.sieve.observer.server.ObserverServer;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import java.util.List;
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

    private final AgentOptions options;
    private final Object lock = new Object();
    private final PolicyEngine engine;
    private final ManifestSource source;
    private final Datapath datapath;
    private final EndpointManager endpoints;
    private final FlowRing ring;
    private final FlowMetrics metrics = new FlowMetrics();
    private final FlowEnricher enricher;
    private final AgentEventHub agentEvents;
    private final AgentStateEvents stateEvents;
    private final ObserverServer observer;
    private final MetricsServer metricsServer;
    private final VerdictEventReader reader;
    private final RelayPusher relay;
    private final Thread readerThread;
    private final Thread resyncThread;
    private final AtomicLong invalidManifests = new AtomicLong();
    private final AtomicLong appliedChanges = new AtomicLong();
    private volatile double lastComputeSeconds;
    private volatile boolean closed;

    public Agent(AgentOptions options) throws Exception {
        this.options = options;
        this.engine = new PolicyEngine(new LocalIdentityAllocator(), options.enforcement(), options.nodeName());
        this.source = new DirectorySource(options.manifests());
        DatapathConfig dc = DatapathConfig.of(options.pinPrefix()).withAggregation(options.aggregation())
                .withLocalDelivery(options.localDelivery());
        if (options.netns() != null) dc = dc.withNetns(NetNs.named(options.netns()));
        this.datapath = Datapath.open(dc);
        this.endpoints = new EndpointManager(datapath, options.nodeName(), options.proxyPort());
        this.ring = new FlowRing(options.flowBuffer());
        EndpointResolver resolver = lockedResolver(new PolicyEngineResolver(engine));
        this.enricher = new FlowEnricher(resolver, options.nodeName(), FlowEnricher.monotonicToEpoch());
        this.relay = options.relay() == null ? null
                : new RelayPusher(options.relay(), options.nodeName(), options.spoolDir(), 256L << 20, RelayPusher.Settings.DEFAULT);
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
        this.reader = datapath.openEventReader(view -> {
            Flow f = enricher.enrich(view.toEvent());
            ring.append(f);
            metrics.observe(f);
            if (relay != null) relay.offer(f); // never blocks: unacknowledged batches wait in the spool
        });
        this.readerThread = Thread.ofPlatform().name("sieve-events").daemon().start(this::readEvents);
        this.observer = ObserverServer.start(options.observerAddress(), ring, agentEvents, options.nodeName(), Version.VERSION);
        this.metricsServer = MetricsServer.start(options.metricsAddress(), metrics);
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
            public long generation() {
                synchronized (lock) {
                    return r.generation();
                }
            }
        };
    }

    /** Applies a valid manifest set: engine first (only differences), then the datapath. */
    void apply(ManifestSet set) {
        synchronized (lock) {
            long start = System.nanoTime();
            engine.sync(set);
            lastComputeSeconds = (System.nanoTime() - start) / 1e9;
            EndpointManager.SyncReport r = endpoints.sync(engine);
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
        while (!closed) {
            try {
                reader.poll(EVENT_POLL_MS);
            } catch (RuntimeException e) {
                if (!closed) LOG.log(Level.WARNING, "reading verdict events failed", e);
            }
        }
    }

    /** Retries pods whose interface appeared after their manifest (a CNI that is slower than us). */
    private void resyncLoop() {
        while (!closed) {
            try {
                Thread.sleep(1000);
                synchronized (lock) {
                    endpoints.syncIfNeeded(engine);
                }
                reportLostEvents();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "resync failed", e);
            }
        }
    }

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

    private void registerGauges() {
        metrics.gauge("sieve_policy_invalid_manifests_total", "Manifest changes rejected by validation", "", invalidManifests::get);
        metrics.gauge("sieve_policy_applied_total", "Valid manifest sets applied", "", appliedChanges::get);
        metrics.gauge("sieve_policy_computation_seconds", "Time of the last policy computation and datapath sync", "", () -> lastComputeSeconds);
        metrics.gauge("sieve_endpoint_attach_errors_total", "Failed attaches to pod interfaces", "", endpoints::attachErrors);
        metrics.gauge("sieve_endpoints", "Endpoints the datapath enforces", "", () -> endpoints.attached().size());
        metrics.gauge("sieve_map_entries", "Entries in the ipcache map", "map=\"ipcache\"", () -> datapath.ipcache().size());
        metrics.gauge("sieve_flow_buffer_flows", "Flows in the node's buffer", "", ring::size);
        if (relay != null) {
            metrics.gauge("sieve_relay_connected", "1 while the relay stream is up", "", () -> relay.connected() ? 1 : 0);
            metrics.gauge("sieve_relay_pending_batches", "Batches waiting for the relay's acknowledgement", "", relay::pendingBatches);
            metrics.gauge("sieve_relay_spool_bytes", "Unacknowledged batches spilled to disk", "", relay::spoolBytesOnDisk);
            metrics.gauge("sieve_relay_lost_flows_total", "Flows dropped: spool full or rejected by the relay", "", relay::lostFlows);
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

    public int observerPort() {
        return observer.port();
    }

    /** The push to the relay, or null when the agent runs without one. */
    public RelayPusher relay() {
        return relay;
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
        reader.close();
        if (relay != null) relay.close(); // what the relay has not acknowledged goes to the spool directory
        if (options.cleanupOnExit()) {
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
    }

    public static void main(String[] args) {
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
