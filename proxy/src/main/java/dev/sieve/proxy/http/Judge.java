package dev.sieve.proxy.http;

import dev.sieve.policy.compute.Match;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.HttpRule;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.trace.ConnectionPolicy;
import dev.sieve.policy.trace.ConnectionPolicy.L7Verdict;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A connection's requests judged with its {@link ConnectionPolicy} (the code {@code sieve policy trace} runs). The
 * policy is fixed per connection, and a verdict depends only on method, path, host and the headers the connection's
 * rules name, so the last verdicts are kept per connection for requests that repeat exactly (keep-alive clients
 * polling the same URL); the judge sees only those headers.
 */
final class Judge {

    private static final int CACHED = 32;
    private static final int MAX_CACHED_KEY = 1024;

    private final ConnectionPolicy policy;
    /** Lower-case names of the headers any HTTP rule of the connection tests. */
    private final String[] headers;
    private final Map<String, L7Verdict> recent = new LinkedHashMap<>(CACHED * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, L7Verdict> e) {
            return size() > CACHED;
        }
    };

    Judge(ConnectionPolicy policy) {
        this.policy = policy;
        Set<String> names = new LinkedHashSet<>();
        for (ConnectionPolicy.Side s : new ConnectionPolicy.Side[] {policy.egress(), policy.ingress()}) {
            Match m = s.match();
            if (m == null || m.l7() == null) continue;
            for (L7Rules rules : m.l7()) {
                for (HttpRule r : rules.http()) {
                    for (HttpRule.HeaderMatch h : r.headers()) names.add(h.name().toLowerCase(Locale.ROOT));
                }
            }
        }
        headers = names.toArray(String[]::new);
    }

    /** The last request's method, path, host, tested header values and verdict (keep-alive polling repeats them). */
    private String lastMethod, lastPath, lastHost;
    private String[] lastValues;
    private L7Verdict lastVerdict;

    /** {@code header} looks a header up by lower-case name (all values joined with ","), null when absent. */
    L7Verdict judge(String method, String path, String host, Function<String, String> header) {
        String[] values = headers.length == 0 ? NO_VALUES : new String[headers.length];
        for (int i = 0; i < headers.length; i++) values[i] = header.apply(headers[i]);
        if (lastVerdict != null && method.equals(lastMethod) && path.equals(lastPath)
                && java.util.Objects.equals(host, lastHost) && java.util.Arrays.equals(values, lastValues)) {
            return lastVerdict; // the same request again: no key to build
        }
        L7Verdict v = judgeFully(method, path, host, values);
        lastMethod = method;
        lastPath = path;
        lastHost = host;
        lastValues = values;
        lastVerdict = v;
        return v;
    }

    private static final String[] NO_VALUES = new String[0];

    private L7Verdict judgeFully(String method, String path, String host, String[] values) {
        Map<String, String> tested = headers.length == 0 ? Map.of() : new LinkedHashMap<>();
        StringBuilder key = new StringBuilder(method.length() + path.length() + 32)
                .append(method).append('\n').append(path).append('\n').append(host);
        for (int i = 0; i < headers.length; i++) {
            String name = headers[i], v = values[i];
            key.append('\n');
            if (v != null) {
                tested.put(name, v);
                key.append('=').append(v);
            }
        }
        if (key.length() > MAX_CACHED_KEY) return policy.judge(new HttpRequest(method, path, host, tested));
        String k = key.toString();
        L7Verdict v = recent.get(k);
        if (v == null) {
            v = policy.judge(new HttpRequest(method, path, host, tested));
            recent.put(k, v);
        }
        return v;
    }
}
