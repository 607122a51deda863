package dev.sieve.proxy.http;

import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.policy.trace.ConnectionPolicy.L7Verdict;
import java.util.List;

/** One request and its response as the proxy tracks them: what it reports, how it was judged, how it is answered. */
final class Exchange {

    final String method;
    final String url;
    final String protocol;
    final List<HTTPHeader> headers;
    final long startNanos = System.nanoTime();
    /** The judgement, or null for a request that could not be parsed. */
    final L7Verdict verdict;

    /** The request's Hubble record, once reported (its response's record adds the code). */
    dev.sieve.api.flow.HTTP http;
    /** The proxy's own answer (a denial or an error), or 0 when the upstream answers. */
    int localStatus;
    /** Close the client connection once this exchange's response is written. */
    boolean closeAfter;
    /** An informational (1xx) response is being relayed: its end does not end the exchange. */
    boolean interim;
    /** The server answered {@code 101 Switching Protocols}: the connection becomes a tunnel after it. */
    boolean upgraded;

    Exchange(String method, String url, String protocol, List<HTTPHeader> headers, L7Verdict verdict) {
        this.method = method;
        this.url = url;
        this.protocol = protocol;
        this.headers = headers;
        this.verdict = verdict;
    }

    boolean forwarded() {
        return localStatus == 0;
    }
}
