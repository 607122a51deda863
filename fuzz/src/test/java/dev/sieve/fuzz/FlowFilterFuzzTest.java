package dev.sieve.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.flowfilter.GetFlowsRequests;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.support.TestFlows;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;

/**
 * The gRPC filter parser: a GetFlowsRequest (whitelist/blacklist FlowFilters, numbers, times, field mask) from
 * arbitrary bytes, validated as the node's and the relay's GetFlows do ({@link GetFlowsRequests#validate}, then
 * {@link FlowQuery#of}), and the compiled filter run over real flows. Refusals are {@link IllegalArgumentException}s
 * with a message (the servers answer them INVALID_ARGUMENT); anything else is a crash.
 */
class FlowFilterFuzzTest {
    static final FuzzStats STATS = new FuzzStats("grpc-flow-filter");
    static final List<Flow> FLOWS;

    static {
        TestFlows g = new TestFlows(7, "node-1", System.currentTimeMillis() * 1_000_000L);
        FLOWS = java.util.stream.Stream.generate(g::next).limit(64).toList();
    }

    @FuzzTest(maxDuration = "4s")
    void requests(byte[] input) {
        STATS.input();
        GetFlowsRequest req;
        try {
            req = GetFlowsRequest.parseFrom(input);
        } catch (InvalidProtocolBufferException e) {
            STATS.refused();
            return;
        }
        FlowQuery q;
        GetFlowsRequests.Valid valid;
        try {
            valid = GetFlowsRequests.validate(req);
            q = FlowQuery.of(valid);
        } catch (IllegalArgumentException e) {
            STATS.refused();
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a refusal without a message", e);
            return;
        }
        Predicate<Flow> m = q.matcher();
        for (Flow f : FLOWS) if (m.test(f)) valid.shape(f);
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
    }
}
