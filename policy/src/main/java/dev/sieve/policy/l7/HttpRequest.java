package dev.sieve.policy.l7;

import java.util.Map;

/**
 * An HTTP request as the L7 proxy sees it; {@code path} includes the query string, like Envoy's :path. A gRPC
 * call is an HTTP/2 POST whose path is {@code /package.Service/Method}.
 */
public record HttpRequest(String method, String path, String host, Map<String, String> headers) implements L7Request {

    @Override
    public HttpRule firstMatch(L7Rules rules) {
        for (HttpRule r : rules.http()) if (r.matches(this)) return r;
        return null;
    }

    @Override
    public String describe() {
        return "HTTP " + method + " " + path;
    }
}
