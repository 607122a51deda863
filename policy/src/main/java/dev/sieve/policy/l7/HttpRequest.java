package dev.sieve.policy.l7;

import java.util.Map;

/** An HTTP request as the L7 proxy sees it; {@code path} includes the query string, like Envoy's :path. */
public record HttpRequest(String method, String path, String host, Map<String, String> headers) {}
