package dev.sieve.proxy.http;

import dev.sieve.api.flow.HTTP;
import dev.sieve.api.flow.HTTPHeader;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.api.flow.Layer7;
import dev.sieve.api.flow.Verdict;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.ProxiedConnection;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns a connection's exchanges into {@link L7Event}s as Cilium's Envoy access log reaches Hubble: a REQUEST
 * with the verdict, a RESPONSE (also for the proxy's own 403) with the status and latency; the URL is
 * {@code http://<host><path>}, the summary Hubble's ({@code HTTP/1.1 GET http://api/x},
 * {@code HTTP/1.1 200 3ms (GET http://api/x)}).
 */
final class HttpEvents {

    private static final Logger LOG = Logger.getLogger(HttpEvents.class.getName());
    static final int TCP = 6;

    private final ProxiedConnection conn;

    HttpEvents(ProxiedConnection conn) {
        this.conn = conn;
    }

    /** Hubble's URL for a request: {@code http://host/path?query}; the original destination when there is no host. */
    String url(String host, String path) {
        if (path.startsWith("http://") || path.startsWith("https://")) return path; // absolute-form
        String h = host == null || host.isEmpty() ? hostOf(conn.originalDestination()) : host;
        return "http://" + h + (path.startsWith("/") || path.isEmpty() ? path : "/" + path);
    }

    private static String hostOf(InetSocketAddress a) {
        String ip = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    /** Header records sorted by (lower-case) name, as Hubble lists them. */
    static List<HTTPHeader> headers(Iterable<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> hs) {
        List<HTTPHeader> out = new ArrayList<>();
        for (var e : hs) {
            String k = e.getKey().toString();
            if (k.startsWith(":")) continue;
            out.add(HTTPHeader.newBuilder().setKey(k.toLowerCase(Locale.ROOT)).setValue(e.getValue().toString()).build());
        }
        out.sort(Comparator.comparing(HTTPHeader::getKey));
        return out;
    }

    void request(Exchange x, Verdict verdict) {
        HTTP http = HTTP.newBuilder().setMethod(x.method).setUrl(x.url).setProtocol(x.protocol).addAllHeaders(x.headers).build();
        x.http = http;
        Layer7 l7 = Layer7.newBuilder().setType(L7FlowType.REQUEST).setHttp(http).build();
        emit(conn.client(), conn.originalDestination(), verdict, x, l7, x.protocol + " " + x.method + " " + x.url);
    }

    void response(Exchange x, int code, Verdict verdict) {
        long latency = System.nanoTime() - x.startNanos;
        // the request's record with the code: its (immutable) header list is shared, not copied
        HTTP http = x.http != null ? x.http.toBuilder().setCode(code).build()
                : HTTP.newBuilder().setCode(code).setMethod(x.method).setUrl(x.url).setProtocol(x.protocol).addAllHeaders(x.headers).build();
        Layer7 l7 = Layer7.newBuilder().setType(L7FlowType.RESPONSE).setLatencyNs(latency).setHttp(http).build();
        String summary = x.protocol + " " + code + " " + TimeUnit.NANOSECONDS.toMillis(latency) + "ms (" + x.method + " " + x.url + ")";
        emit(conn.originalDestination(), conn.client(), verdict, x, l7, summary);
    }

    private void emit(InetSocketAddress src, InetSocketAddress dst, Verdict verdict, Exchange x, Layer7 l7, String summary) {
        List<RuleInfo> eg = x.verdict == null ? List.of() : x.verdict.egressRules();
        List<RuleInfo> in = x.verdict == null ? List.of() : x.verdict.ingressRules();
        Instant now = Instant.now();
        long epochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        try {
            conn.events().accept(new L7Event(epochNanos, src, dst, TCP, conn.ingress(), verdict, eg, in, l7, summary, conn.proxyPort()));
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "L7 event sink failed", e);
        }
    }

    /** The flow verdict of a request's judgement. */
    static Verdict verdictOf(dev.sieve.policy.trace.ConnectionPolicy.L7Verdict v) {
        return switch (v.verdict()) {
            case FORWARDED -> Verdict.FORWARDED;
            case AUDIT -> Verdict.AUDIT;
            case DROPPED -> Verdict.DROPPED;
            default -> Verdict.VERDICT_UNKNOWN;
        };
    }
}
