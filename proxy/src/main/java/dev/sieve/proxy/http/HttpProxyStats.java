package dev.sieve.proxy.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the HTTP proxy counts that flows cannot tell: connections, and clients cut off for time. Requests, denials
 * and errors are counted from the L7 flows (the observer's metrics), like every other flow.
 */
public final class HttpProxyStats {

    final LongAdder connections = new LongAdder();
    final LongAdder active = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder upstreamFailures = new LongAdder();
    final LongAdder upgrades = new LongAdder();

    /** Client connections accepted since start. */
    public long connections() {
        return connections.sum();
    }

    /** Client connections open now. */
    public long activeConnections() {
        return active.sum();
    }

    /** Connections closed for a header or idle timeout. */
    public long timeouts() {
        return timeouts.sum();
    }

    /** Upstream connections that could not be opened or broke with requests outstanding. */
    public long upstreamFailures() {
        return upstreamFailures.sum();
    }

    /** Connections that became tunnels after an allowed upgrade (WebSocket). */
    public long upgrades() {
        return upgrades.sum();
    }
}
