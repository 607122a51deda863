package dev.sieve.proxy.transparent;

import java.util.concurrent.atomic.LongAdder;

/** What one listener has seen since the proxy started (the agent exports them as {@code sieve_proxy_*}). */
public final class ListenerStats {

    final LongAdder redirected = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder errors = new LongAdder();

    /** Connections (TCP) and datagrams (UDP) handed to the protocol. */
    public long redirected() {
        return redirected.sum();
    }

    /** Closed or dropped without a protocol: none set, or the policy unknown or dropping it (fail closed). */
    public long refused() {
        return refused.sum();
    }

    /** Policy lookups and protocol handlers that failed. */
    public long errors() {
        return errors.sum();
    }
}
