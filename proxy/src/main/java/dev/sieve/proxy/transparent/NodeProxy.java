package dev.sieve.proxy.transparent;

import dev.sieve.policy.l7.L7Rules.L7Protocol;
import dev.sieve.proxy.ConnectionPolicies;
import dev.sieve.proxy.L7EventSink;
import dev.sieve.proxy.ProxyProtocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's L7 proxy: one transparent listener per (L7 protocol, direction) — http-ingress, http-egress,
 * kafka-ingress, ... — on ports taken from a range (the first free ones, or the previous run's when they are
 * free, so the proxy ports in pinned policy entries stay right across a restart). The datapath assigns
 * redirected connections to these sockets; each accepted connection gets its policy from
 * {@link ConnectionPolicies} and its pipeline from the protocol's {@link ProxyProtocol}. A protocol with no
 * handler (yet) has a listener that closes every connection: fail closed.
 *
 * <p>A listener that closes while the proxy runs (an error) is opened again on the same port; until then the
 * datapath drops the connections redirected to it. Every socket is created on the proxy's event loop threads,
 * which the given {@link ThreadFactory} starts in the datapath's network namespace.
 */
public final class NodeProxy implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(NodeProxy.class.getName());
    /** Cilium's default proxy port range. */
    public static final int DEFAULT_PORT_LOW = 10000, DEFAULT_PORT_HIGH = 20000;

    /**
     * @param portLow first port of the range
     * @param portHigh last port of the range
     * @param stateFile where the ports are remembered between runs (null: not remembered)
     * @param threads starts the event loop threads (in the datapath's network namespace)
     * @param eventLoops how many event loop threads
     * @param ipv6 whether to listen on IPv6 too
     */
    public record Settings(int portLow, int portHigh, Path stateFile, ThreadFactory threads, int eventLoops, boolean ipv6) {
        public Settings {
            if (portLow < 1 || portHigh > 65535 || portLow > portHigh) {
                throw new IllegalArgumentException("proxy port range " + portLow + "-" + portHigh + " is not within 1-65535");
            }
            if (portHigh - portLow + 1 < ProxyListener.all().size()) {
                throw new IllegalArgumentException("proxy port range " + portLow + "-" + portHigh + " has fewer than "
                        + ProxyListener.all().size() + " ports");
            }
        }

        /** Parses {@code LOW-HIGH}. */
        public static int[] parseRange(String text) {
            String[] parts = text.split("-");
            try {
                if (parts.length != 2) throw new NumberFormatException();
                int lo = Integer.parseInt(parts[0].strip()), hi = Integer.parseInt(parts[1].strip());
                if (lo < 1 || hi > 65535 || lo > hi) throw new NumberFormatException();
                return new int[] {lo, hi};
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected LOW-HIGH within 1-65535, got " + text);
            }
        }
    }

    private final Settings settings;
    private final ConnectionPolicies policies;
    private final L7EventSink events;
    private final Map<L7Protocol, ProxyProtocol> tcp = new ConcurrentHashMap<>();
    private final Map<L7Protocol, DatagramProtocol> udp = new ConcurrentHashMap<>();
    private final Map<ProxyListener, TransparentListener> listeners = new LinkedHashMap<>();
    private final Map<ProxyListener, Integer> ports = new LinkedHashMap<>();
    private final Map<ProxyListener, ListenerStats> stats = new LinkedHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong reopened = new java.util.concurrent.atomic.AtomicLong();
    private EventLoopGroup group;
    private volatile boolean listening;
    private volatile boolean closed;

    public NodeProxy(Settings settings, ConnectionPolicies policies, L7EventSink events) {
        this.settings = settings;
        this.policies = policies;
        this.events = events;
    }

    /** Sets the TCP protocol of {@code protocol}'s listeners (both directions); may be called at any time. */
    public NodeProxy tcp(L7Protocol protocol, ProxyProtocol handler) {
        tcp.put(protocol, handler);
        return this;
    }

    /** Sets the UDP protocol of {@code protocol}'s listeners (DNS); may be called at any time. */
    public NodeProxy udp(L7Protocol protocol, DatagramProtocol handler) {
        udp.put(protocol, handler);
        return this;
    }

    /** Allocates the ports and opens every listener. */
    public synchronized NodeProxy start() throws IOException {
        if (group != null) throw new IllegalStateException("started already");
        group = newGroup();
        Map<String, Integer> previous = readState();
        Set<Integer> taken = new HashSet<>();
        for (ProxyListener l : ProxyListener.all()) {
            Integer want = previous.get(l.name());
            TransparentListener bound = null;
            if (want != null && want >= settings.portLow() && want <= settings.portHigh() && !taken.contains(want)) {
                bound = tryBind(l, want);
            }
            for (int p = settings.portLow(); bound == null && p <= settings.portHigh(); p++) {
                if (!taken.contains(p) && !previous.containsValue(p)) bound = tryBind(l, p);
            }
            for (int p = settings.portLow(); bound == null && p <= settings.portHigh(); p++) {
                if (!taken.contains(p)) bound = tryBind(l, p); // a previous run's port of another listener, now free
            }
            if (bound == null) {
                close();
                throw new IOException("no free port for the " + l + " proxy listener in " + settings.portLow() + "-" + settings.portHigh());
            }
            taken.add(bound.port());
            listeners.put(l, bound);
            ports.put(l, bound.port());
            supervise(l, bound);
        }
        listening = true;
        writeState();
        LOG.info(() -> "L7 proxy listening: " + ports);
        return this;
    }

    /**
     * Netty 4.1's API, which 4.2 keeps (deprecated): the relay's Quarkus pins Netty 4.1 wherever the agent and the
     * relay share a class path (the end-to-end tests), and the listeners must run there too.
     */
    @SuppressWarnings("deprecation")
    /**
     * For the process that runs the proxy (the agent's main, the benchmark's harness): Netty's leak detection samples
     * one buffer in 128 and records a stack trace at its allocation and at its release, on the I/O thread, a cost in
     * the latency tail of the requests it hits. Off unless {@code io.netty.leakDetection.level} is set (tests keep it).
     */
    public static void leakSamplingOffUnlessConfigured() {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }

    /** The default number of event loops: one per core (at least two), the client and upstream of a connection on one. */
    public static int defaultEventLoops() {
        return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    private EventLoopGroup newGroup() {
        return new EpollEventLoopGroup(settings.eventLoops(), settings.threads());
    }

    /** The port of listener {@code l}. */
    public synchronized int port(ProxyListener l) {
        Integer p = ports.get(l);
        if (p == null) throw new IllegalStateException("the node proxy is not started");
        return p;
    }

    public int port(L7Protocol protocol, boolean ingress) {
        return port(new ProxyListener(protocol, ingress));
    }

    /** Every listener's port. */
    public synchronized Map<ProxyListener, Integer> ports() {
        return Map.copyOf(ports);
    }

    /** Each listener's counters. */
    public synchronized Map<ProxyListener, ListenerStats> stats() {
        return Map.copyOf(stats);
    }

    /** How often a listener that failed was opened again. */
    public long reopened() {
        return reopened.get();
    }

    public boolean listening() {
        return listening;
    }

    /** The sockets of listener {@code l} (tests: a listener that fails). */
    synchronized java.util.List<Channel> channels(ProxyListener l) {
        TransparentListener t = listeners.get(l);
        return t == null ? java.util.List.of() : java.util.List.copyOf(t.channels());
    }

    /** Closes every listener (redirected connections then fail in the datapath) until {@link #resume()}. */
    public synchronized void suspend() {
        listening = false;
        for (TransparentListener t : listeners.values()) t.close();
    }

    /**
     * What the proxy's death does, for tests of it: {@link #suspend()}, and every connection the listeners accepted
     * is reset, mid-stream or not (their upstream connections close with them). {@link #resume()} brings it back.
     * Returns how many connections were reset.
     */
    public synchronized int kill() {
        suspend();
        int n = 0;
        for (TransparentListener t : listeners.values()) n += t.resetConnections();
        return n;
    }

    /** Opens the listeners again on their ports. */
    public synchronized void resume() throws IOException {
        if (listening || closed) return;
        for (Map.Entry<ProxyListener, TransparentListener> e : listeners.entrySet()) {
            TransparentListener t = bindOn(e.getKey(), e.getValue().port());
            e.setValue(t);
            supervise(e.getKey(), t);
        }
        listening = true;
    }

    private TransparentListener tryBind(ProxyListener l, int port) {
        try {
            return bindOn(l, port);
        } catch (IOException e) {
            return null;
        }
    }

    private TransparentListener bindOn(ProxyListener l, int port) throws IOException {
        TransparentListener t = new TransparentListener(l, port, policies, events, k -> tcp.get(k.protocol()), k -> udp.get(k.protocol()),
                stats.computeIfAbsent(l, k -> new ListenerStats()));
        // sockets are created by the binding thread: one from the thread factory, in the datapath's network namespace
        java.util.concurrent.atomic.AtomicReference<Throwable> error = new java.util.concurrent.atomic.AtomicReference<>();
        Thread binder = settings.threads().newThread(() -> {
            try {
                t.bind(group, l.protocol() == L7Protocol.DNS, settings.ipv6(), settings.threads());
            } catch (Throwable e) {
                error.set(e);
            }
        });
        binder.start();
        try {
            binder.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + l);
        }
        Throwable e = error.get();
        if (e instanceof IOException io) throw io;
        if (e != null) throw new IOException(l + ": binding port " + port + " failed: " + e, e);
        return t;
    }

    /** A listener socket closed while the proxy should listen: open it again on the same port. */
    private void supervise(ProxyListener l, TransparentListener t) {
        for (Channel c : t.channels()) {
            c.closeFuture().addListener((ChannelFutureListener) f -> {
                if (closed || !listening) return;
                LOG.warning(l + " proxy listener on port " + t.port() + " closed unexpectedly; reopening it");
                group.schedule(() -> reopen(l, t), 500, TimeUnit.MILLISECONDS);
            });
        }
    }

    private void reopen(ProxyListener l, TransparentListener dead) {
        Thread.ofPlatform().daemon().start(() -> {
            synchronized (this) {
                if (closed || !listening || listeners.get(l) != dead) return;
                dead.close();
                try {
                    TransparentListener t = bindOn(l, dead.port());
                    reopened.incrementAndGet();
                    listeners.put(l, t);
                    supervise(l, t);
                } catch (IOException e) {
                    LOG.log(Level.WARNING, l + ": reopening port " + dead.port() + " failed, retrying", e);
                    group.schedule(() -> reopen(l, dead), 1, TimeUnit.SECONDS);
                }
            }
        });
    }

    private Map<String, Integer> readState() {
        Map<String, Integer> out = new HashMap<>();
        Path f = settings.stateFile();
        if (f == null || !Files.isReadable(f)) return out;
        try {
            for (String line : Files.readAllLines(f)) {
                String[] kv = line.strip().split("\\s+");
                if (kv.length == 2) {
                    try {
                        out.put(kv[0], Integer.parseInt(kv[1]));
                    } catch (NumberFormatException e) {
                        // a damaged line: that listener takes a fresh port
                    }
                }
            }
        } catch (IOException e) {
            LOG.warning("cannot read the proxy ports of the previous run from " + f + ": " + e.getMessage());
        }
        return out;
    }

    private void writeState() {
        Path f = settings.stateFile();
        if (f == null) return;
        StringBuilder sb = new StringBuilder();
        ports.forEach((l, p) -> sb.append(l.name()).append(' ').append(p).append('\n'));
        try {
            if (f.getParent() != null) Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.writeString(tmp, sb);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warning("cannot remember the proxy ports in " + f + ": " + e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        listening = false;
        for (TransparentListener t : listeners.values()) t.close();
        if (group != null) group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
