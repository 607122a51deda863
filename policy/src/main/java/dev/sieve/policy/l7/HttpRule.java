package dev.sieve.policy.l7;

import java.util.List;
import java.util.Map;
import com.google.re2j.Pattern;

/**
 * An HTTP rule: method, path and host are regular expressions (RE2 syntax and linear-time matching, as
 * Envoy's safe_regex for Cilium) that must match the whole value; each header must be present and, when a value is given, equal to it
 * (Cilium matches header values exactly). Null fields match anything. gRPC calls are HTTP/2 POSTs with the
 * path {@code /package.Service/Method}.
 */
public record HttpRule(Pattern method, Pattern path, Pattern host, List<HeaderMatch> headers) {

    public record HeaderMatch(String name, String value) {
        @Override
        public String toString() {
            return value == null ? name : name + ": " + value;
        }
    }

    public boolean matches(HttpRequest req) {
        if (method != null && !method.matcher(req.method()).matches()) return false;
        if (path != null && !path.matcher(req.path()).matches()) return false;
        if (host != null && !host.matcher(req.host() == null ? "" : req.host()).matches()) return false;
        for (HeaderMatch h : headers) {
            String v = header(req.headers(), h.name());
            if (v == null) return false;
            if (h.value() != null && !h.value().equals(v)) return false;
        }
        return true;
    }

    private static String header(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
        }
        return null;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("http");
        if (method != null) sb.append(" method=").append(method.pattern());
        if (path != null) sb.append(" path=").append(path.pattern());
        if (host != null) sb.append(" host=").append(host.pattern());
        if (!headers.isEmpty()) sb.append(" headers=").append(headers);
        return sb.toString();
    }
}
