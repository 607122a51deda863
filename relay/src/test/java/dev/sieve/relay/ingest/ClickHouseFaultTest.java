package dev.sieve.relay.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.BatchAck;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.RelayHarness;
import dev.sieve.relay.support.TestFlows;
import dev.sieve.relay.support.TestNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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

  final List<AutoCloseable> closing = new ArrayList<>();
  String db;
  String serverName;

  @AfterEach
  void cleanup() throws Exception {
    for (AutoCloseable c : closing.reversed()) c.close();
  }

  RelayHarness relay() throws Exception {
    ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(CH.url(), db, "default", "", 30, Duration.ofMillis(50), 100_000));
    try {
      s.migrate();
    } catch (Exception e) {
      // ClickHouse may be down right now; the writer migrates once it is back
    }
    RelayHarness r = new RelayHarness(serverName, s);
    closing.add(r);
    return r;
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
    relay(); // ...and start a new one: marks must come from the flows themselves
    TestNode replay = new TestNode("node-a", a.epoch, () -> io.grpc.inprocess.InProcessChannelBuilder.forName(serverName).build());
    closing.add(replay);
    replay.resend(batches); // an agent restarted from its disk spool replays everything
    replay.connect();
    replay.awaitDrained(Duration.ofSeconds(30));
    // every replayed batch is answered DUPLICATE (the probe's acked_through may already have emptied the spool)
    for (int i = 0; i < 100 && (replay.acks.get(BatchAck.Status.STATUS_DUPLICATE) == null
        || replay.acks.get(BatchAck.Status.STATUS_DUPLICATE).get() < 10); i++) Thread.sleep(50);
    assertThat(replay.acks.get(BatchAck.Status.STATUS_DUPLICATE).get()).isGreaterThanOrEqualTo(10);
    assertThat(replay.acks.get(BatchAck.Status.STATUS_STORED)).as("only the probe is STORED").satisfiesAnyOf(
        x -> assertThat(x).isNull(), x -> assertThat(x.get()).isLessThanOrEqualTo(1));
    assertExactlyOnce(sent);
  }
}
