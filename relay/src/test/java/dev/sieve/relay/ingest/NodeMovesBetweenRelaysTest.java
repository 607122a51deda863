package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.relay.support.TestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * F13: two relays on one ClickHouse, a node whose push moves from relay A to relay B and back (a load balancer, a
 * failover) with B's last acknowledgements lost on the way. Relay A remembered the stream's mark from before the move;
 * the resends of what B stored must be answered DUPLICATE, not stored a second time: every flow is stored once.
 */
@Timeout(120)
class NodeMovesBetweenRelaysTest {
    @RegisterExtension static final ClickHouseServer CH = new ClickHouseServer();
    static final long START = Timestamps.nanos(Instant.now().minusSeconds(60));

    @Test
    void aNodeMovingBackToARelayWithAnOldMarkStoresNothingTwice() throws Exception {
        String db = "moves" + Math.abs(UUID.randomUUID().getLeastSignificantBits() % 100_000);
        String a = "relay-a-" + UUID.randomUUID(), b = "relay-b-" + UUID.randomUUID();
        AtomicReference<String> target = new AtomicReference<>(a);
        try (RelayHarness relayA = new RelayHarness(a, store(db));
             RelayHarness relayB = new RelayHarness(b, store(db));
             TestNode node = new TestNode("node-1", "epoch-" + UUID.randomUUID(),
                     () -> io.grpc.inprocess.InProcessChannelBuilder.forName(target.get()).build())) {
            TestFlows g = new TestFlows(13, "node-1", START);
            List<Flow> sent = new ArrayList<>();
            node.connect();
            for (int i = 0; i < 3; i++) sent.addAll(pushed(node, g));
            node.awaitDrained(Duration.ofSeconds(30)); // relay A holds the stream's mark at batch 3

            node.disconnect();
            target.set(b);
            node.connect();
            List<FlowBatch> atB = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                FlowBatch batch = node.push(g.next(100));
                sent.addAll(batch.getFlowsList());
                atB.add(batch);
            }
            node.awaitDrained(Duration.ofSeconds(30)); // relay B stored batches 4-6

            // back to A; B's acks of batches 5 and 6 were lost in the move, so the node sends them again
            node.disconnect();
            target.set(a);
            node.resend(atB.subList(1, 3));
            node.connect();
            node.awaitDrained(Duration.ofSeconds(30));
            for (int i = 0; i < 2; i++) sent.addAll(pushed(node, g));
            node.awaitDrained(Duration.ofSeconds(30));

            String counts = CH.sql("SELECT count(), uniqExact(uuid) FROM " + db + ".flows FORMAT TabSeparated").trim();
            assertThat(counts).isEqualTo(sent.size() + "\t" + sent.size());
        }
    }

    static List<Flow> pushed(TestNode node, TestFlows g) {
        return node.push(g.next(100)).getFlowsList();
    }

    static ClickHouseFlowStore store(String db) throws Exception {
        ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(CH.url(), db, "default", "", 30, Duration.ofMillis(20), 100_000));
        s.migrate();
        return s;
    }
}
