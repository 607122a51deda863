package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.InsertCutProxy;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.relay.support.TestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults with a real ClickHouse: the server killed and restarted mid-stream, the relay killed and
 * restarted, a node disconnected and reconnected, batches resent — afterwards the store holds every
 * flow exactly once (count and ids compared).
 */
@Timeout(120)
class ClickHouseFaultTest {
    @RegisterExtension static final ClickHouseServer CH = new ClickHouseServer();
    static final AtomicInteger DB = new AtomicInteger();
    static final long START = Timestamps.nanos(Instant.parse("2026-11-25T10:00:00Z"));
    /** The stream of the tests that append to a store directly. */
    static final StreamKey K = new StreamKey("node-a", "e");

    final List<AutoCloseable> closing = new ArrayList<>();
    String db;
    String serverName;

    @AfterEach
    void cleanup() throws Exception {
        for (AutoCloseable c : closing.reversed()) c.close();
    }

    RelayHarness relay() throws Exception {
        return relay(CH.url(), Duration.ofMillis(50));
    }

    /** A relay on the ClickHouse at {@code url} (the server itself or a proxy in front of it). */
    RelayHarness relay(String url, Duration flushInterval) throws Exception {
        RelayHarness r = new RelayHarness(serverName, store(url, flushInterval));
        closing.add(r);
        return r;
    }

    ClickHouseFlowStore store(String url, Duration flushInterval) {
        ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(url, db, "default", "", 30, flushInterval, 100_000));
        try {
            s.migrate();
        } catch (Exception e) {
            // ClickHouse may be down right now; the writer migrates once it is back
        }
        return s;
    }

    void fresh() {
        db = "fault" + DB.incrementAndGet();
        serverName = "relay-" + UUID.randomUUID();
    }

    TestNode node(String name) {
        TestNode n = new TestNode(name, "epoch-" + UUID.randomUUID(), () -> io.grpc.inprocess.InProcessChannelBuilder.forName(serverName).build());
        closing.add(n);
        n.connect();
        return n;
    }

    /** Pushes batches of 100 flows every 20 ms from a background thread until stopped. */
    final class Producer implements AutoCloseable {
        final List<Flow> sent = Collections.synchronizedList(new ArrayList<>());
        final AtomicBoolean run = new AtomicBoolean(true);
        final Thread t;

        Producer(TestNode n, long seed) {
            TestFlows g = new TestFlows(seed, n.name, START);
            t = Thread.ofPlatform().daemon().start(() -> {
                while (run.get()) {
                    List<Flow> fs = g.next(100);
                    sent.addAll(fs);
                    n.push(fs);
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            run.set(false);
            t.join();
        }
    }

    void assertExactlyOnce(List<Flow> sent) throws Exception {
        String counts = CH.sql("SELECT count(), uniqExact(uuid) FROM " + db + ".flows FORMAT TabSeparated").trim();
        assertThat(counts).isEqualTo(sent.size() + "\t" + sent.size());
        List<String> ids = List.of(CH.sql("SELECT uuid FROM " + db + ".flows ORDER BY uuid FORMAT TabSeparated").trim().split("\n"));
        assertThat(ids).containsExactlyInAnyOrderElementsOf(sent.stream().map(Flow::getUuid).toList());
    }

    /** Flow positions 1..n of one stream, each once. */
    void assertFlowSeqsOnce(int n) throws Exception {
        String expected = java.util.stream.LongStream.rangeClosed(1, n).mapToObj(Long::toString).collect(java.util.stream.Collectors.joining("\n"));
        assertThat(CH.sql("SELECT flow_seq FROM " + db + ".flows ORDER BY flow_seq FORMAT TabSeparated").trim()).isEqualTo(expected);
    }

    /** The materialized views counted each flow once: flow_minutes per minute and policy_minutes in total match the flows sent. */
    void assertAggregatesExact(List<Flow> sent) throws Exception {
        java.util.TreeMap<Long, Long> perMinute = new java.util.TreeMap<>();
        long policies = 0;
        for (Flow f : sent) {
            perMinute.merge(f.getTime().getSeconds() / 60 * 60, 1L, Long::sum);
            policies += f.getIngressAllowedByCount() + f.getEgressAllowedByCount() + f.getIngressDeniedByCount() + f.getEgressDeniedByCount();
        }
        StringBuilder expected = new StringBuilder();
        perMinute.forEach((m, n) -> expected.append(m).append('\t').append(n).append('\n'));
        assertThat(CH.sql("SELECT toUInt32(minute) AS m, sum(flows) FROM " + db + ".flow_minutes GROUP BY m ORDER BY m FORMAT TabSeparated"))
                .isEqualTo(expected.toString());
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".policy_minutes FORMAT TabSeparated").trim()).isEqualTo(Long.toString(policies));
    }

    long count() throws Exception {
        return Long.parseLong(CH.sql("SELECT count() FROM " + db + ".flows FORMAT TabSeparated").trim());
    }

    /** Waits for ClickHouse to commit what a cut insert body held (it does once it sees the connection close). */
    void awaitCommitted(long rows) throws Exception {
        for (int i = 0; i < 200 && count() < rows; i++) Thread.sleep(50);
        assertThat(count()).as("ClickHouse committed the complete rows of the cut body").isEqualTo(rows);
    }

    /** Column name to type of one of the test database's tables (the proxy walks insert bodies with them). */
    Map<String, String> columnTypes(String table) throws Exception {
        Map<String, String> types = new HashMap<>();
        for (String line : CH.sql("SELECT name, type FROM system.columns WHERE database = '" + db + "' AND table = '" + table
                + "' FORMAT TabSeparated").trim().split("\n")) {
            String[] f = line.split("\t");
            types.put(f[0], f[1]);
        }
        return types;
    }

    /**
     * {@code n} flows whose last one sorts before the others in the flows table's ORDER BY (time, nanos:
     * its time is just before the batch's first). An insert of a group of such batches puts each batch's
     * newest flow first, so a cut at a row boundary keeps the highest flow_seq of the group and leaves
     * out lower ones.
     */
    static List<Flow> newestSortsFirst(TestFlows g, int n) {
        List<Flow> fs = new ArrayList<>(g.next(n));
        Flow last = fs.getLast();
        long first = dev.sieve.relay.query.Timestamps.nanos(fs.getFirst().getTime());
        fs.set(n - 1, last.toBuilder().setTime(dev.sieve.relay.query.Timestamps.timestamp(first - 1_000)).build());
        return fs;
    }

    /** How many rows of a cut insert reach ClickHouse: half of them, and at least through the row with the highest flow_seq. */
    static int throughNewestOrHalf(long[] flowSeqs) {
        int newest = 0;
        for (int i = 1; i < flowSeqs.length; i++) if (flowSeqs[i] > flowSeqs[newest]) newest = i;
        return Math.max(newest + 1, flowSeqs.length / 2);
    }

    /**
     * Relay 1 (on ClickHouse through the proxy) stores a first batch; then the insert of the next five is
     * cut at a row boundary. Asserts ClickHouse committed part of it, with flows missing below the
     * highest flow_seq it holds — what a relay dying mid-insert leaves. Returns every flow the node sent.
     */
    List<Flow> cutInsertShort(InsertCutProxy proxy, TestNode a, InsertCutProxy.After after) throws Exception {
        TestFlows g = new TestFlows(7, a.name, START);
        List<Flow> sent = new ArrayList<>(g.next(100));
        a.push(sent);
        a.awaitDrained(Duration.ofSeconds(30));
        proxy.arm(db, "flows", columnTypes("flows"), ClickHouseFaultTest::throughNewestOrHalf, after);
        // within the flush interval of the first insert: the writer groups these into one insert
        for (int i = 0; i < 5; i++) {
            List<Flow> fs = newestSortsFirst(g, 100);
            sent.addAll(fs);
            a.push(fs);
        }
        int[] cut = proxy.awaitCut(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(cut[0]).as("rows forwarded of " + cut[1]).isPositive().isLessThan(cut[1]);
        awaitCommitted(100 + cut[0]);
        long maxFlowSeq = Long.parseLong(CH.sql("SELECT max(flow_seq) FROM " + db + ".flows FORMAT TabSeparated").trim());
        assertThat(maxFlowSeq).as("flows missing below the highest stored flow_seq").isGreaterThan(count());
        return sent;
    }

    @Test
    void insertCutAtARowBoundaryThenRelayRestartedStoresEveryFlowOnce() throws Exception {
        fresh();
        List<Flow> sent;
        TestNode a;
        try (InsertCutProxy proxy = new InsertCutProxy(CH.httpPort())) {
            RelayHarness r1 = relay(proxy.url(), Duration.ofMillis(500));
            a = node("node-a");
            sent = cutInsertShort(proxy, a, InsertCutProxy.After.REFUSE);
            r1.close(); // the relay that sent the insert is gone; the node still holds batches 2-6
        }
        relay(); // a new relay: the node reconnects and resends
        a.awaitDrained(Duration.ofSeconds(60));
        assertExactlyOnce(sent);
        assertFlowSeqsOnce(sent.size());
        assertAggregatesExact(sent);
    }

    @Test
    void insertCutAtARowBoundaryThenResentToTheSameRelayStoresEveryFlowOnce() throws Exception {
        fresh();
        List<Flow> sent;
        try (InsertCutProxy proxy = new InsertCutProxy(CH.httpPort())) {
            relay(proxy.url(), Duration.ofMillis(500));
            TestNode a = node("node-a");
            sent = cutInsertShort(proxy, a, InsertCutProxy.After.PASS);
            a.awaitDrained(Duration.ofSeconds(60)); // RETRY, then resent through the proxy, which passes everything now
            assertThat(a.acks.get(BatchAck.Status.STATUS_RETRY)).as("the cut insert was answered RETRY").isNotNull();
        }
        assertExactlyOnce(sent);
        assertFlowSeqsOnce(sent.size());
        assertAggregatesExact(sent);
    }

    @Test
    void batchesWithoutPositionsStoredButNeverMarkedAreNotStoredAgain() throws Exception {
        fresh();
        TestFlows g = new TestFlows(9, "node-a", START);
        List<Flow> b1 = g.next(100), b2 = g.next(100);
        ClickHouseFlowStore s1 = store(CH.url(), Duration.ofMillis(10));
        try {
            s1.append(K, 1, 0, b1);
            s1.append(K, 2, 0, b2);
        } finally {
            s1.close();
        }
        CH.sql("TRUNCATE TABLE " + db + ".ingest_marks"); // as if the relay died before each marks insert
        ClickHouseFlowStore s2 = store(CH.url(), Duration.ofMillis(10));
        closing.add(s2);
        s2.append(K, 1, 0, b1); // resent
        s2.append(K, 2, 0, b2);
        List<Flow> sent = new ArrayList<>(b1);
        sent.addAll(b2);
        assertExactlyOnce(sent);
        assertAggregatesExact(sent);
    }

    /** The limit of a batch without flow positions: cut short, it is stored whole again — nothing lost, the rows that were there twice. */
    @Test
    void aBatchWithoutPositionsCutShortIsStoredWholeAgain() throws Exception {
        fresh();
        TestFlows g = new TestFlows(10, "node-a", START);
        List<Flow> b1 = g.next(100), b2 = g.next(100);
        int[] cut;
        try (InsertCutProxy proxy = new InsertCutProxy(CH.httpPort())) {
            ClickHouseFlowStore s1 = store(proxy.url(), Duration.ofMillis(10));
            try {
                s1.append(K, 1, 0, b1);
                proxy.arm(db, "flows", columnTypes("flows"), seqs -> seqs.length / 2, InsertCutProxy.After.REFUSE);
                assertThatThrownBy(() -> s1.append(K, 2, 0, b2)).isInstanceOf(StoreException.class);
                cut = proxy.awaitCut(30, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                s1.close();
            }
        }
        awaitCommitted(100 + cut[0]);
        ClickHouseFlowStore s2 = store(CH.url(), Duration.ofMillis(10));
        closing.add(s2);
        s2.append(K, 2, 0, b2); // resent to a new relay
        assertThat(CH.sql("SELECT count(), uniqExact(uuid) FROM " + db + ".flows FORMAT TabSeparated").trim())
                .isEqualTo((200 + cut[0]) + "\t200");
    }

    @Test
    void clickHouseKilledAndRestartedMidStream() throws Exception {
        fresh();
        relay();
        TestNode a = node("node-a"), b = node("node-b");
        List<Flow> sent = new ArrayList<>();
        try (Producer pa = new Producer(a, 1); Producer pb = new Producer(b, 2)) {
            Thread.sleep(700);
            CH.kill();
            Thread.sleep(1500); // nodes get RETRY and keep spooling
            CH.start();
            Thread.sleep(700);
            pa.close();
            pb.close();
            sent.addAll(pa.sent);
            sent.addAll(pb.sent);
        }
        a.awaitDrained(Duration.ofSeconds(60));
        b.awaitDrained(Duration.ofSeconds(60));
        assertThat(a.acks.get(BatchAck.Status.STATUS_RETRY)).as("RETRY answered while ClickHouse was down").isNotNull();
        assertExactlyOnce(sent);
    }

    @Test
    void relayKilledAndRestartedMidStreamAndNodeReconnects() throws Exception {
        fresh();
        RelayHarness r1 = relay();
        TestNode a = node("node-a"), b = node("node-b");
        List<Flow> sent = new ArrayList<>();
        try (Producer pa = new Producer(a, 3); Producer pb = new Producer(b, 4)) {
            Thread.sleep(700);
            r1.close(); // killed: acks in flight are lost, nodes keep spooling
            Thread.sleep(500);
            relay(); // restarted: marks come from ClickHouse
            Thread.sleep(500);
            b.disconnect();
            Thread.sleep(300);
            b.connect();
            Thread.sleep(500);
            pa.close();
            pb.close();
            sent.addAll(pa.sent);
            sent.addAll(pb.sent);
        }
        a.awaitDrained(Duration.ofSeconds(60));
        b.awaitDrained(Duration.ofSeconds(60));
        assertExactlyOnce(sent);
    }

    @Test
    void batchesResentAfterAnAgentRestartAndLostMarksStoreNothingTwice() throws Exception {
        fresh();
        RelayHarness r1 = relay();
        TestNode a = node("node-a");
        TestFlows g = new TestFlows(5, "node-a", START);
        List<Flow> sent = new ArrayList<>();
        List<dev.sieve.api.ingest.v1.FlowBatch> batches = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            List<Flow> fs = g.next(100);
            sent.addAll(fs);
            batches.add(a.push(fs));
        }
        a.awaitDrained(Duration.ofSeconds(30));
        // the relay forgets its marks table (as if it crashed between the flows insert and the marks insert)
        CH.sql("TRUNCATE TABLE " + db + ".ingest_marks");
        a.close();
        r1.close(); // kill the relay...
        relay(); // ...and start a new one: it finds the flows in ClickHouse above the (lost) mark
        TestNode replay = new TestNode("node-a", a.epoch, () -> io.grpc.inprocess.InProcessChannelBuilder.forName(serverName).build());
        closing.add(replay);
        replay.resend(batches); // an agent restarted from its disk spool replays everything
        replay.connect();
        replay.awaitDrained(Duration.ofSeconds(30));
        // no mark says they are stored, so each replayed batch is answered STORED — with nothing written
        assertThat(replay.acks.get(BatchAck.Status.STATUS_STORED).get()).as("probe + 10 batches").isGreaterThanOrEqualTo(11);
        assertExactlyOnce(sent);
        assertFlowSeqsOnce(sent.size());
        assertAggregatesExact(sent);
        // that wrote the marks: a second replay is answered DUPLICATE
        replay.resend(batches);
        replay.awaitDrained(Duration.ofSeconds(30));
        assertThat(replay.acks.get(BatchAck.Status.STATUS_DUPLICATE).get()).isGreaterThanOrEqualTo(10);
        assertExactlyOnce(sent);
    }
}
