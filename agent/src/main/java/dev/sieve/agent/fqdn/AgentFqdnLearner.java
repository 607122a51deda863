package dev.sieve.agent.fqdn;

import dev.sieve.policy.compute.Endpoint;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.net.Cidr;
import dev.sieve.proxy.dns.FqdnLearner;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's {@link FqdnLearner}: an answer's addresses for a name that a toFQDNs selector of the asking
 * endpoint's policy matches go into {@link FqdnCache} and into the policy engine for that endpoint's identity
 * ({@link PolicyEngine#learnFqdn(int, String, String)}: the address gets a {@code fqdn:SELECTOR@IDENTITY} label,
 * which only that identity's toFQDNs peers select); then the datapath gets the change (incrementally: the learned
 * addresses' ipcache entries and their peer identities' policy keys, see {@link DatapathSync}), and only then does
 * {@link #learn} complete and the proxy release the answer.
 *
 * <p>Isolation is per security identity, the granularity policy is compiled at (pods with the same labels share
 * policy maps, as in Cilium). Expiry: every second, entries past their TTL (at least {@code --tofqdns-min-ttl})
 * go unless the datapath's conntrack has a live connection between the endpoint and the address; those stay as
 * {@code connection} entries until it ends. The cache is saved to a state file (atomically, at most once a
 * second) and restored at start, before the first datapath sync, so a restart keeps what was learned.
 *
 * <p>Threads: one learner thread does all changes; engine and datapath are touched under the agent's lock.
 */
public final class AgentFqdnLearner implements FqdnLearner, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(AgentFqdnLearner.class.getName());
    private static final int LATENCY_SAMPLES = 1024;

    private final PolicyEngine engine;
    private final Object lock;
    private final DatapathSync syncDatapath;
    private final Supplier<Set<String>> liveConnections;
    private final FqdnOptions options;
    private final FqdnCache cache;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("sieve-fqdn").daemon().unstarted(r));
    private final Thread ticker;
    /** The identity each entry was given to the engine under (identities change with pod labels). */
    private final Map<FqdnCache.Key, Integer> learnedAs = new HashMap<>();
    /** "endpoint|address" -> names, for flows' source/destination names; read by the enricher's thread. */
    private final java.util.concurrent.ConcurrentHashMap<String, List<String>> namesByPair = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * What the cache holds, entry key to expiry (epoch ms), readable from the proxy's threads: an answer whose every
     * (name, address) is held well beyond now is already in the maps and is released without waiting for this
     * learner's thread (its TTL refresh follows on that thread).
     */
    private final java.util.concurrent.ConcurrentHashMap<FqdnCache.Key, Long> known = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong knownAnswers = new AtomicLong();
    private volatile boolean dirty;
    private volatile boolean closed;

    private final AtomicLong learnedTotal = new AtomicLong();
    private final AtomicLong expiredTotal = new AtomicLong();
    private final AtomicLong evictedTotal = new AtomicLong();
    private final AtomicLong updates = new AtomicLong();
    private final AtomicLong updateNanos = new AtomicLong();
    private final AtomicLong syncNanos = new AtomicLong();
    private final AtomicLong queueNanos = new AtomicLong();
    private final AtomicLong lockWaitNanos = new AtomicLong();
    private final long[] latencies = new long[LATENCY_SAMPLES];
    private volatile int cacheSize;

    /**
     * How learned addresses reach the maps (called under the agent's lock): {@code hosts} are the addresses whose
     * ipcache entry may have changed, {@code peers} the identities they had before and have now,
     * {@code generationBefore} the engine's generation before the change (the datapath was in step with it, or
     * the implementation falls back to a full sync).
     */
    @FunctionalInterface
    public interface DatapathSync {
        void addresses(long generationBefore, Set<Cidr> hosts, Set<Integer> peers);
    }

    /**
     * {@code syncDatapath} writes a change of learned addresses to the maps (called under {@code lock});
     * {@code liveConnections} lists live address pairs ({@link LiveConnections#pair}).
     */
    public AgentFqdnLearner(PolicyEngine engine, Object lock, DatapathSync syncDatapath, Supplier<Set<String>> liveConnections,
                            FqdnOptions options) {
        this.engine = engine;
        this.lock = lock;
        this.syncDatapath = syncDatapath;
        this.liveConnections = liveConnections;
        this.options = options;
        this.cache = new FqdnCache(options.minTtlSeconds(), options.maxIpsPerHostname(), options.maxEntries());
        try {
            int bad = cache.load(options.stateFile());
            if (bad > 0) LOG.warning(options.stateFile() + ": skipped " + bad + " unreadable lines of the FQDN cache");
            if (cache.size() > 0) LOG.info("restored " + cache.size() + " learned FQDN addresses from " + options.stateFile());
        } catch (IOException e) {
            LOG.warning("cannot read the FQDN cache " + options.stateFile() + ": " + e.getMessage() + "; starting empty");
        }
        cacheSize = cache.size();
        index(new FqdnCache.Change(cache.list(), List.of()));
        this.ticker = Thread.ofPlatform().name("sieve-fqdn-expiry").daemon().start(this::tick);
    }

    /** The agent's datapath conntrack, read from its pin directory. */
    public static Supplier<Set<String>> conntrackOf(Path pinDir) {
        LiveConnections lc = new LiveConnections(pinDir);
        return lc::snapshot;
    }

    public static String pair(String a, String b) {
        return LiveConnections.pair(a, b);
    }

    @Override
    public CompletableFuture<Void> learn(InetAddress endpoint, List<String> names, List<InetAddress> ips, long ttlSeconds) {
        long t0 = System.nanoTime();
        Boolean refresh = known(endpoint, names, ips, ttlSeconds);
        if (refresh != null) {
            knownAnswers.incrementAndGet();
            if (refresh) worker.execute(() -> learnNow(endpoint, names, ips, ttlSeconds, t0, false));
            return CompletableFuture.completedFuture(null);
        }
        return CompletableFuture.runAsync(() -> learnNow(endpoint, names, ips, ttlSeconds, t0, true), worker);
    }

    /**
     * Null when the answer teaches something new (or something held expires within a second); else whether its TTL
     * should still be refreshed (what is held expires more than a second before the answer's TTL would).
     */
    private Boolean known(InetAddress endpoint, List<String> names, List<InetAddress> ips, long ttlSeconds) {
        if (known.isEmpty() || ips.isEmpty()) return null;
        String epIp = Cidr.formatAddress(endpoint.getAddress());
        long now = System.currentTimeMillis();
        boolean refresh = false;
        for (String name : names) {
            for (InetAddress ip : ips) {
                Long expires = known.get(new FqdnCache.Key(epIp, name, Cidr.formatAddress(ip.getAddress())));
                if (expires == null || expires < now + 1000) return null;
                if (expires < now + ttlSeconds * 1000 - 1000) refresh = true;
            }
        }
        return refresh;
    }

    /** Answers released without waiting: everything they named was in the maps already. */
    public long knownAnswers() {
        return knownAnswers.get();
    }

    private void learnNow(InetAddress endpoint, List<String> names, List<InetAddress> ips, long ttlSeconds, long t0, boolean timed) {
        long started = System.nanoTime();
        if (timed) queueNanos.addAndGet(started - t0);
        synchronized (lock) {
            long locked = System.nanoTime();
            if (timed) lockWaitNanos.addAndGet(locked - started);
            Endpoint ep = engine.endpointByIp(endpoint.getAddress());
            if (ep == null) return; // not a local endpoint: nothing of ours to open
            String epIp = Cidr.formatAddress(endpoint.getAddress()); // one spelling everywhere (compressed IPv6)
            List<String> addrs = ips.stream().map(i -> Cidr.formatAddress(i.getAddress())).toList();
            long now = System.currentTimeMillis();
            Touched touched = new Touched(engine.generation());
            for (String name : names) {
                if (engine.fqdnSelectors(ep.identity(), name).isEmpty()) continue;
                FqdnCache.Change c = cache.learn(epIp, name, addrs, ttlSeconds, now);
                applyToEngine(c, ep.identity().id(), touched);
                for (String a : addrs) { // expiries the cache holds now (refreshed ones too)
                    FqdnCache.Entry e = cache.get(new FqdnCache.Key(epIp, name, a));
                    if (e != null) known.put(e.key(), e.expiresAt());
                }
                evictedTotal.addAndGet(c.removed().size());
                learnedTotal.addAndGet(c.added().size());
                dirty = true;
            }
            long t1 = System.nanoTime();
            touched.sync();
            syncNanos.addAndGet(System.nanoTime() - t1);
            cacheSize = cache.size();
        }
        if (timed) record(System.nanoTime() - t0);
    }

    private void index(FqdnCache.Change c) {
        for (FqdnCache.Entry e : c.removed()) {
            known.remove(e.key());
            namesByPair.computeIfPresent(e.endpoint() + "|" + e.address(), (k, l) -> {
                List<String> n = new ArrayList<>(l);
                n.remove(e.name());
                return n.isEmpty() ? null : List.copyOf(n);
            });
        }
        for (FqdnCache.Entry e : c.added()) {
            known.put(e.key(), e.expiresAt());
            namesByPair.merge(e.endpoint() + "|" + e.address(), List.of(e.name()), (a, b) -> {
                if (a.contains(b.getFirst())) return a;
                List<String> n = new ArrayList<>(a);
                n.addAll(b);
                return List.copyOf(n);
            });
        }
    }

    /** The names {@code endpoint} learned for {@code address} (for flows' source/destination names). */
    public List<String> names(byte[] endpoint, byte[] address) {
        if (namesByPair.isEmpty()) return List.of();
        List<String> l = namesByPair.get(Cidr.formatAddress(endpoint) + "|" + Cidr.formatAddress(address));
        return l == null ? List.of() : l;
    }

    private void applyToEngine(FqdnCache.Change c, int subject, Touched touched) {
        index(c);
        for (FqdnCache.Entry e : c.removed()) {
            Integer as = learnedAs.remove(e.key());
            if (as != null) {
                touched.before(e.address());
                engine.forgetFqdn(as, e.name(), e.address());
            }
        }
        for (FqdnCache.Entry e : c.added()) {
            touched.before(e.address());
            engine.learnFqdn(subject, e.name(), e.address());
            learnedAs.put(e.key(), subject);
        }
    }

    /** The addresses one change touched, with the identity each had before it; {@link #sync} writes them. */
    private final class Touched {
        private final long generationBefore;
        private final Map<Cidr, Integer> before = new HashMap<>();

        Touched(long generationBefore) {
            this.generationBefore = generationBefore;
        }

        void before(String address) {
            Cidr host = Cidr.host(Cidr.parseAddress(address));
            if (!before.containsKey(host)) before.put(host, engine.ipcache().get(host));
        }

        void sync() {
            if (before.isEmpty()) return;
            Set<Integer> peers = new java.util.HashSet<>();
            for (Map.Entry<Cidr, Integer> e : before.entrySet()) {
                if (e.getValue() != null) peers.add(e.getValue());
                Integer now = engine.ipcache().get(e.getKey());
                if (now != null) peers.add(now);
            }
            syncDatapath.addresses(generationBefore, before.keySet(), peers);
        }
    }

    /**
     * Brings the engine in line with the cache after the engine's endpoints changed (call under the agent's lock,
     * after {@code engine.sync} and before the datapath sync): entries restored at start are learned, entries of
     * an endpoint whose identity changed move to the new one, entries of endpoints that are gone are forgotten.
     */
    public void resync() {
        for (FqdnCache.Entry e : cache.list()) {
            Endpoint ep = engine.endpointByIp(Cidr.parseAddress(e.endpoint()));
            Integer as = learnedAs.get(e.key());
            if (ep == null) {
                if (as != null) engine.forgetFqdn(as, e.name(), e.address());
                learnedAs.remove(e.key());
                continue; // kept in the cache: a pod that comes back (or comes late at start) gets it again
            }
            int id = ep.identity().id();
            if (as != null && as == id) continue;
            if (as != null) engine.forgetFqdn(as, e.name(), e.address());
            engine.learnFqdn(id, e.name(), e.address());
            learnedAs.put(e.key(), id);
        }
    }

    private void tick() {
        while (!closed) {
            try {
                Thread.sleep(1000);
                worker.submit(this::expireAndSave).get();
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (!closed) LOG.log(Level.WARNING, "FQDN cache expiry failed", e);
            }
        }
    }

    /** Runs the expiry now (tests, and the ticker). */
    public void expireNow() throws Exception {
        worker.submit(this::expireAndSave).get();
    }

    private void expireAndSave() {
        long now = System.currentTimeMillis();
        boolean anyDue = cache.nextExpiry() <= now;
        if (anyDue) {
            Set<String> live = liveConnections.get();
            synchronized (lock) {
                FqdnCache.Change c = cache.expire(now, e -> live.contains(LiveConnections.pair(e.endpoint(), e.address())));
                if (!c.isEmpty() || cache.convertedLastExpire() > 0) dirty = true;
                if (!c.isEmpty()) {
                    Touched touched = new Touched(engine.generation());
                    applyToEngine(c, 0, touched);
                    expiredTotal.addAndGet(c.removed().size());
                    touched.sync();
                }
                cacheSize = cache.size();
            }
        }
        if (dirty) save();
    }

    private void save() {
        try {
            cache.save(options.stateFile());
            dirty = false;
        } catch (IOException e) {
            LOG.warning("cannot save the FQDN cache to " + options.stateFile() + ": " + e.getMessage());
        }
    }

    private synchronized void record(long nanos) {
        long n = updates.getAndIncrement();
        updateNanos.addAndGet(nanos);
        latencies[(int) (n % LATENCY_SAMPLES)] = nanos;
    }

    // ---- what the agent shows ----------------------------------------------------------------------------------

    public int size() {
        return cacheSize;
    }

    public long learnedTotal() {
        return learnedTotal.get();
    }

    public long expiredTotal() {
        return expiredTotal.get();
    }

    public long evictedTotal() {
        return evictedTotal.get();
    }

    public long updates() {
        return updates.get();
    }

    /** Of {@link #updateSecondsTotal()}, the part spent writing the maps (the datapath sync). */
    public double syncSecondsTotal() {
        return syncNanos.get() / 1e9;
    }

    /** Of {@link #updateSecondsTotal()}: waiting for the learner's thread, and for the agent's lock. */
    public double queueSecondsTotal() {
        return queueNanos.get() / 1e9;
    }

    public double lockWaitSecondsTotal() {
        return lockWaitNanos.get() / 1e9;
    }

    public double updateSecondsTotal() {
        return updateNanos.get() / 1e9;
    }

    /** The {@code q} quantile of the last {@value #LATENCY_SAMPLES} answer-to-map times, in seconds. */
    public synchronized double updateSecondsQuantile(double q) {
        int n = (int) Math.min(updates.get(), LATENCY_SAMPLES);
        if (n == 0) return 0;
        long[] s = Arrays.copyOf(latencies, n);
        Arrays.sort(s);
        return s[Math.min(n - 1, (int) Math.ceil(q * n) - 1)] / 1e9;
    }

    /** The last {@code n} (at most {@value #LATENCY_SAMPLES}) answer-to-map times in nanoseconds, oldest first (benchmarks). */
    public synchronized long[] recentUpdateNanos(int n) {
        long total = updates.get();
        int k = (int) Math.min(Math.min(n, total), LATENCY_SAMPLES);
        long[] out = new long[k];
        for (int i = 0; i < k; i++) out[i] = latencies[(int) ((total - k + i) % LATENCY_SAMPLES)];
        return out;
    }

    /** The cache as JSON for {@code sieve fqdn cache list}: endpoint, pod, name, address, TTL left, expiry, source. */
    public String toJson() {
        List<FqdnCache.Entry> entries;
        try {
            entries = worker.submit(cache::list).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("FQDN cache not readable: " + e.getMessage(), e);
        }
        long now = System.currentTimeMillis();
        StringBuilder sb = new StringBuilder("[");
        List<String> rows = new ArrayList<>();
        for (FqdnCache.Entry e : entries) {
            String pod;
            synchronized (lock) {
                Endpoint ep = engine.endpointByIp(Cidr.parseAddress(e.endpoint()));
                pod = ep == null ? "" : ep.pod().namespace() + "/" + ep.pod().name();
            }
            rows.add("{\"endpoint\":\"" + e.endpoint() + "\",\"pod\":\"" + json(pod) + "\",\"fqdn\":\"" + json(e.name()) + "\",\"ip\":\"" + e.address()
                    + "\",\"ttl\":" + Math.max(0, (e.expiresAt() - now + 999) / 1000) + ",\"expiration\":\"" + Instant.ofEpochMilli(e.expiresAt())
                    + "\",\"source\":\"" + e.source() + "\"}");
        }
        sb.append(String.join(",", rows)).append("]");
        return sb.toString();
    }

    private static String json(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.toString();
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
        try {
            worker.submit(this::save).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing anyway
        }
        worker.shutdownNow();
    }

    /** Removes the state file (an agent that cleans up after itself: tests, demos). */
    public void deleteState() {
        try {
            Files.deleteIfExists(options.stateFile());
        } catch (IOException e) {
            // nothing more to do
        }
    }
}
