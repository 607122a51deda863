package dev.sieve.proxy.http;

import java.time.Duration;

/**
 * The bounds that keep one client from holding the HTTP proxy.
 *
 * @param maxRequestLine longest request line (method, URI, version) in bytes; longer is answered {@code 414}
 * @param maxHeaderBytes largest request header block in bytes (HTTP/1.1), largest header list (HTTP/2); larger is
 *     answered {@code 431}
 * @param headersTimeout how long a request's header block may take from its first byte; then {@code 408} and close
 *     (slow-loris)
 * @param idleTimeout a connection with no byte read or written for this long is closed
 * @param maxPipelined requests of one HTTP/1.1 connection waiting for their responses before the proxy stops reading
 *     more
 * @param maxConcurrentStreams HTTP/2 streams a client may open at once
 */
public record HttpProxyLimits(int maxRequestLine, int maxHeaderBytes, Duration headersTimeout, Duration idleTimeout,
                              int maxPipelined, int maxConcurrentStreams) {

    /** Envoy's defaults where it has them (60 KiB of headers), nginx's otherwise (8 KiB request line, 60 s). */
    public static final HttpProxyLimits DEFAULT =
            new HttpProxyLimits(8192, 60 * 1024, Duration.ofSeconds(10), Duration.ofSeconds(60), 256, 256);

    public HttpProxyLimits {
        if (maxRequestLine < 64) throw new IllegalArgumentException("maxRequestLine " + maxRequestLine + " is below 64 bytes");
        if (maxHeaderBytes < 256) throw new IllegalArgumentException("maxHeaderBytes " + maxHeaderBytes + " is below 256 bytes");
        if (headersTimeout.isNegative() || headersTimeout.isZero()) throw new IllegalArgumentException("headersTimeout must be positive");
        if (idleTimeout.isNegative() || idleTimeout.isZero()) throw new IllegalArgumentException("idleTimeout must be positive");
        if (maxPipelined < 1) throw new IllegalArgumentException("maxPipelined must be at least 1");
        if (maxConcurrentStreams < 1) throw new IllegalArgumentException("maxConcurrentStreams must be at least 1");
    }
}
