package dev.sieve.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatchFrame;
import dev.sieve.relay.ingest.IngestProcessor;
import dev.sieve.relay.ingest.LiveFlows;
import dev.sieve.relay.metrics.RelayMetrics;
import dev.sieve.relay.nodes.NodeRegistry;
import dev.sieve.relay.store.memory.MemoryFlowStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;

/**
 * The relay's ingest batch reader on arbitrary bytes, as a node's Push stream delivers them: the frame is parsed as
 * gRPC's marshaller does (a parse failure ends the call there) and the processor answers every parsed frame with an
 * acknowledgement — stored, duplicate, rejected with a reason, or retry — within a second, never an exception.
 * Seeds: batches of the relay tests' flows (written by {@code SeedCorpus}).
 */
class IngestBatchFuzzTest {
    static final FuzzStats STATS = new FuzzStats("ingest-batch");
    static final MemoryFlowStore STORE = new MemoryFlowStore(20_000);
    static final LiveFlows LIVE = new LiveFlows(1000);
    static final IngestProcessor PROCESSOR = new IngestProcessor(STORE, LIVE, new NodeRegistry(Clock.systemUTC(), Duration.ofSeconds(60)),
            new RelayMetrics(), new IngestProcessor.Limits(10_000, 16 << 20));

    @FuzzTest(maxDuration = "4s")
    void batches(byte[] input) throws Exception {
        STATS.input();
        FlowBatchFrame frame;
        try {
            frame = FlowBatchFrame.parseFrom(input);
        } catch (InvalidProtocolBufferException e) {
            STATS.refused();
            return;
        }
        BatchAck ack = PROCESSOR.handle(frame).get(1, TimeUnit.SECONDS);
        if (ack.getStatus() == BatchAck.Status.STATUS_REJECTED) {
            STATS.refused();
            if (ack.getError().isBlank()) throw new AssertionError("REJECTED without a reason");
        }
        if (ack.getStatus() == BatchAck.Status.STATUS_UNSPECIFIED) throw new AssertionError("an ack without a status: " + ack);
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
        STORE.close();
    }
}
