package dev.sieve.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sieve.api.flow.Flow;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.observer.enrich.FlowEnricher;
import dev.sieve.observer.enrich.StaticResolver;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;

/**
 * The ring buffer's verdict-event records as the agent reads them ({@link VerdictEventReader.Decoder}: size and field
 * checks, then the enricher into a Hubble flow) on arbitrary bytes: a record is turned into a flow or counted as
 * malformed, never an exception (which would cost the rest of that poll's events).
 */
class VerdictEventFuzzTest {
    static final FuzzStats STATS = new FuzzStats("ring-buffer-event");
    static final StaticResolver RESOLVER = new StaticResolver()
            .identity(12345, "k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod")
            .pod("10.0.0.1", "prod", "web-0").pod("10.0.0.2", "prod", "db-0").addressIdentity("10.0.0.1", 12345);
    static final FlowEnricher ENRICHER = new FlowEnricher(RESOLVER, "node-1", ns -> ns);
    static final List<Flow> OUT = new ArrayList<>();
    static final VerdictEventReader.Decoder DECODER = new VerdictEventReader.Decoder(view -> {
        Flow f = ENRICHER.enrich(view.toEvent()); // what Agent does with each event
        if (OUT.size() > 1000) OUT.clear();
        OUT.add(f);
    });

    @FuzzTest(maxDuration = "4s")
    void events(byte[] input) {
        STATS.input();
        long malformedBefore = DECODER.malformedRecords();
        DECODER.onRecord(MemorySegment.ofArray(input));
        if (DECODER.malformedRecords() > malformedBefore) STATS.refused();
        if (DECODER.handlerErrors() > 0) throw new AssertionError("a record that passed the decoder's checks failed in the enricher");
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
    }
}
