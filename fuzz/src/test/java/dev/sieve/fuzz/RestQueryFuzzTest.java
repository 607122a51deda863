package dev.sieve.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sieve.api.flow.Flow;
import dev.sieve.relay.http.QueryParams;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.support.TestFlows;
import jakarta.ws.rs.core.MultivaluedHashMap;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;

/**
 * The REST filter parser: query parameters (hubble's filter flags as names, {@code not-} prefixed, plus since, until,
 * last, first, ...) with arbitrary values, parsed by {@link QueryParams#parse} as {@code GET /api/v1/flows} does and
 * the compiled filter run over real flows. Refusals are {@link InvalidQueryException}s (HTTP 400) with a message.
 */
class RestQueryFuzzTest {
    static final FuzzStats STATS = new FuzzStats("rest-query");
    static final String[] NAMES = {
        "since", "until", "last", "first", "follow", "all", "bucket", "whitelist", "blacklist",
        "verdict", "namespace", "pod", "from-pod", "to-pod", "from-namespace", "to-namespace", "label", "from-label", "to-label",
        "ip", "from-ip", "to-ip", "port", "from-port", "to-port", "protocol", "type", "drop-reason", "drop-reason-desc",
        "http-status", "http-method", "http-path", "http-url", "http-header", "fqdn", "from-fqdn", "to-fqdn", "identity",
        "from-identity", "to-identity", "node-name", "node-label", "tcp-flags", "traffic-direction", "uuid", "cel-expression",
        "from-service", "to-service", "from-workload", "to-workload", "workload", "service", "cluster", "ip-version",
        "trace-id", "not-verdict", "not-namespace", "not-pod", "not-ip", "not-label", "not-http-path", "not-port", "not"};
    static final List<Flow> FLOWS;

    static {
        TestFlows g = new TestFlows(11, "node-1", System.currentTimeMillis() * 1_000_000L);
        FLOWS = java.util.stream.Stream.generate(g::next).limit(64).toList();
    }

    @FuzzTest(maxDuration = "4s")
    void queries(FuzzedDataProvider data) {
        STATS.input();
        MultivaluedHashMap<String, String> params = new MultivaluedHashMap<>();
        int n = data.consumeInt(0, 6);
        for (int i = 0; i < n; i++) {
            String name = data.consumeBoolean() ? data.pickValue(NAMES) : data.consumeString(20);
            params.add(name, data.consumeString(60));
        }
        FlowQuery q;
        try {
            q = QueryParams.parse(params);
        } catch (InvalidQueryException e) {
            STATS.refused();
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a refusal without a message", e);
            return;
        }
        Predicate<Flow> m = q.matcher();
        for (Flow f : FLOWS) m.test(f);
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
    }
}
