package dev.sieve.relay.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.InvalidQueryException;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import dev.sieve.relay.store.clickhouse.Schema;
import dev.sieve.relay.support.ClickHouseServer;
import dev.sieve.relay.support.TestFlows;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The FlowStore contract plus schema, migration and retention against a real ClickHouse 18.16 server. */
class ClickHouseFlowStoreTest extends FlowStoreContract {
    @RegisterExtension static final ClickHouseServer CH = new ClickHouseServer();
    private static final AtomicInteger DB = new AtomicInteger();
    private final List<ClickHouseFlowStore> opened = new ArrayList<>();
    private static final List<Integer> ALL_VERSIONS = Schema.migrations().stream().map(Schema.Migration::version).toList();

    private ClickHouseFlowStore open(String db, int retentionDays) throws Exception {
        ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(CH.url(), db, "default", "", retentionDays, java.time.Duration.ofMillis(10), 100_000));
        opened.add(s);
        return s;
    }

    @Override
    protected FlowStore store() {
        try {
            ClickHouseFlowStore s = open("t" + DB.incrementAndGet(), 30);
            s.migrate();
            return s;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void close() {
        opened.forEach(ClickHouseFlowStore::close);
    }

    @Test
    void schemaIsCreatedAndAnOldSchemaIsMigratedKeepingItsData() throws Exception {
        String db = "mig" + DB.incrementAndGet();
        ClickHouseFlowStore old = open(db, 30);
        assertThat(old.migrate(1)).isEqualTo(1);
        assertThat(old.appliedMigrations()).containsExactly(1);
        TestFlows g = new TestFlows(5, "node-a", START);
        List<Flow> written = new ArrayList<>(g.next(500));
        old.append(new StreamKey("node-a", "e"), 1, 1, written);
        assertThat(CH.sql("EXISTS TABLE " + db + ".flow_minutes").trim()).isEqualTo("0");
        old.close();

        ClickHouseFlowStore s = open(db, 30); // a newer relay starts on the old schema
        assertThat(s.migrate()).isEqualTo(Schema.LATEST_VERSION);
        assertThat(s.appliedMigrations()).isEqualTo(ALL_VERSIONS);
        assertThat(s.migrate()).isEqualTo(Schema.LATEST_VERSION); // idempotent
        assertThat(s.appliedMigrations()).isEqualTo(ALL_VERSIONS);
        // the migration backfilled the aggregates from the existing flows, and the view keeps them current
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".flow_minutes").trim()).isEqualTo("500");
        List<Flow> more = g.next(100);
        written.addAll(more);
        s.append(new StreamKey("node-a", "e"), 2, 501, more);
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".flow_minutes").trim()).isEqualTo("600");
        // rows of both layouts (labels inside the flow column, labels by set id) read back exactly as written
        assertThat(CH.sql("SELECT countIf(src_labels = 0), countIf(src_labels != 0) FROM " + db + ".flows").trim()).isEqualTo("500\t100");
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(written);
        // a migration whose ALTER ran but was not recorded (or a schema made by hand) is applied again cleanly
        CH.sql("ALTER TABLE " + db + ".schema_migrations DELETE WHERE version = 4");
        for (int i = 0; i < 100 && !CH.sql("SELECT count() FROM " + db + ".schema_migrations WHERE version = 4").trim().equals("0"); i++) {
            Thread.sleep(50); // mutations are asynchronous on 18.16
        }
        ClickHouseFlowStore again = open(db, 30);
        assertThat(again.appliedMigrations()).isEqualTo(ALL_VERSIONS.stream().filter(v -> v != 4).toList());
        assertThat(again.migrate()).isEqualTo(Schema.LATEST_VERSION);
        assertThat(again.appliedMigrations()).isEqualTo(ALL_VERSIONS);
        assertThat(again.query(FlowQuery.all())).containsExactlyElementsOf(written);
        assertThat(s.mark(new StreamKey("node-a", "e"))).isEqualTo(new FlowStore.Mark(2, 600));
        assertThat(CH.sql("SELECT partition_key, sorting_key FROM system.tables WHERE database = '" + db + "' AND name = 'flows'"))
                .contains("toYYYYMMDD(time)").contains("time, nanos");
    }

    @Test
    void theTimeKeyMigrationCopiesAPopulatedStoreOnceAndResumesWhereItWasCut() throws Exception {
        String db = "tk" + DB.incrementAndGet();
        List<Flow> written = populateAtVersion6(db);
        // a first attempt cut short: the copy made, the first day copied whole, the second in part
        CH.sql("CREATE TABLE " + db + ".flows_v7 AS " + db + ".flows ENGINE = MergeTree PARTITION BY toYYYYMMDD(time) ORDER BY (time, nanos)");
        CH.sql("INSERT INTO " + db + ".flows_v7 SELECT * FROM " + db + ".flows WHERE toYYYYMMDD(time) = 20261120");
        CH.sql("INSERT INTO " + db + ".flows_v7 SELECT * FROM " + db + ".flows WHERE toYYYYMMDD(time) = 20261121 LIMIT 100");
        ClickHouseFlowStore s = open(db, 3650);
        assertThat(s.migrate()).isEqualTo(Schema.LATEST_VERSION);
        assertMigrated(db, s, written);
        // the views follow the table's name: new flows are counted once more, the copy was never counted
        List<Flow> more = new TestFlows(60, "node-a", START + 3 * 86_400_000_000_000L).next(100);
        s.append(new StreamKey("node-a", "later"), 1, 1, more);
        written.addAll(more);
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".flow_minutes").trim()).isEqualTo("1300");
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".node_minutes").trim()).isEqualTo("1300");
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(written);
    }

    @Test
    void theTimeKeyMigrationFinishesASwapCutBetweenItsTwoRenames() throws Exception {
        String db = "tk" + DB.incrementAndGet();
        List<Flow> written = populateAtVersion6(db);
        CH.sql("CREATE TABLE " + db + ".flows_v7 AS " + db + ".flows ENGINE = MergeTree PARTITION BY toYYYYMMDD(time) ORDER BY (time, nanos)");
        CH.sql("INSERT INTO " + db + ".flows_v7 SELECT * FROM " + db + ".flows");
        CH.sql("RENAME TABLE " + db + ".flows TO " + db + ".flows_before_v7");
        ClickHouseFlowStore s = open(db, 3650);
        assertThat(s.migrate()).isEqualTo(Schema.LATEST_VERSION);
        assertMigrated(db, s, written);
    }

    @Test
    void lastAndFirstNWidenTheirTimeWindowsUntilTheyFindNFlows() throws Exception {
        FlowStore s = store();
        // dense recent flows, and the only matches for the filters days before them, in a sparse stretch
        List<Flow> old = new ArrayList<>(), recent = new TestFlows(71, "node-a", START + 5 * 86_400_000_000_000L).next(3_000);
        long t = START;
        for (int i = 0; i < 40; i++, t += 3_600_000_000_000L) { // one an hour
            Flow f = new TestFlows(72 + i, "node-a", t).next();
            old.add(f.toBuilder().setVerdict(dev.sieve.api.flow.Verdict.ERROR)
                    .setSource(f.getSource().toBuilder().clearLabels().addLabels("k8s:app=rare")).build());
        }
        s.append(new StreamKey("node-a", "old"), 1, 1, old);
        s.append(new StreamKey("node-a", "recent"), 1, 1, recent);
        var error = dev.sieve.api.flow.FlowFilter.newBuilder().addVerdict(dev.sieve.api.flow.Verdict.ERROR).build();
        var rare = dev.sieve.api.flow.FlowFilter.newBuilder().addSourceLabel("k8s:app=rare").build(); // matched in Java
        assertThat(s.query(FlowQuery.last(5, error))).containsExactlyElementsOf(old.subList(35, 40));
        assertThat(s.query(FlowQuery.last(5, rare))).containsExactlyElementsOf(old.subList(35, 40));
        assertThat(s.query(FlowQuery.last(100, error))).containsExactlyElementsOf(old);
        assertThat(s.query(FlowQuery.last(5, error).withNumber(5, true))).containsExactlyElementsOf(old.subList(0, 5));
        assertThat(s.query(FlowQuery.last(5, rare).withNumber(5, true))).containsExactlyElementsOf(old.subList(0, 5));
        assertThat(s.query(FlowQuery.last(3))).containsExactlyElementsOf(recent.subList(2_997, 3_000));
        assertThat(s.query(FlowQuery.last(3).withNumber(3, true))).containsExactlyElementsOf(old.subList(0, 3));
        // a window inside the sparse stretch
        Instant from = Timestamps.instant(START).plusSeconds(3_600 * 10), to = from.plusSeconds(3_600 * 5);
        assertThat(s.query(FlowQuery.all().withRange(from, to).withNumber(2, false))).containsExactlyElementsOf(old.subList(13, 15));
        assertThat(s.query(FlowQuery.all().withRange(from, to).withNumber(2, true))).containsExactlyElementsOf(old.subList(10, 12));
    }

    /** A store at schema 6 (the hour-first key) holding 1,200 flows over three days. */
    private List<Flow> populateAtVersion6(String db) throws Exception {
        ClickHouseFlowStore old = open(db, 3650);
        assertThat(old.migrate(6)).isEqualTo(6);
        List<Flow> written = new ArrayList<>();
        for (int day = 0; day < 3; day++) {
            List<Flow> b = new TestFlows(40 + day, "node-a", START + day * 86_400_000_000_000L).next(400);
            old.append(new StreamKey("node-a", "d" + day), 1, 1, b);
            written.addAll(b);
        }
        old.close();
        assertThat(CH.sql("SELECT sorting_key FROM system.tables WHERE database = '" + db + "' AND name = 'flows'")).contains("toStartOfHour(time)");
        return written;
    }

    private void assertMigrated(String db, ClickHouseFlowStore s, List<Flow> written) throws Exception {
        assertThat(CH.sql("SELECT count(), uniqExact(uuid, time, nanos) FROM " + db + ".flows").trim()).isEqualTo("1200\t1200");
        assertThat(CH.sql("SELECT sum(flows) FROM " + db + ".flow_minutes").trim()).isEqualTo("1200");
        assertThat(CH.sql("SELECT name FROM system.tables WHERE database = '" + db + "' AND name LIKE 'flows%' ORDER BY name").trim()).isEqualTo("flows");
        assertThat(CH.sql("SELECT sorting_key FROM system.tables WHERE database = '" + db + "' AND name = 'flows'").trim()).isEqualTo("time, nanos");
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(written);
        assertThat(s.query(FlowQuery.last(10))).containsExactlyElementsOf(written.subList(1190, 1200));
        assertThat(s.mark(new StreamKey("node-a", "d2"))).isEqualTo(new FlowStore.Mark(1, 400));
    }

    /**
     * The L7 columns hold what each flow's Layer7 record says (expectations from the parsed flows' getters),
     * on the newest schema and on one before the Kafka columns (migration 8), where rows are written without them.
     */
    @Test
    void l7ColumnsHoldTheFlowsLayer7Records() throws Exception {
        for (int version : List.of(Schema.L7_COLUMNS_VERSION, Schema.LATEST_VERSION)) {
            String db = "l7v" + version + "_" + DB.incrementAndGet();
            ClickHouseFlowStore s = open(db, 30);
            s.migrate(version);
            List<Flow> flows = new ArrayList<>(new TestFlows(7, "node-a", START).next(300));
            flows.add(flows.getLast().toBuilder().setUuid("kafka-1").setL7(FlowColumnsTest.kafka(29, "produce", "orders")).build());
            s.append(new StreamKey("node-a", "e"), 1, 1, flows);
            boolean kafka = version >= Schema.KAFKA_COLUMNS_VERSION;
            String columns = "l7_record, l7_type, l7_latency_ns, dns_query, dns_rcode, arrayStringConcat(dns_qtypes, ','), arrayStringConcat(dns_ips, ','), "
                    + "http_method, http_status, http_url" + (kafka ? ", kafka_api_key, kafka_topic, kafka_error_code" : "");
            List<String> got = CH.sql("SELECT " + columns + " FROM " + db + ".flows ORDER BY uuid").lines().toList();
            List<String> want = flows.stream().sorted(java.util.Comparator.comparing(Flow::getUuid)).map(f -> {
                List<String> c = new ArrayList<>(List.of(FlowColumnsTest.l7Expected(f.getL7()).split("\\|", -1)));
                return String.join("\t", kafka ? c : c.subList(0, 10));
            }).toList();
            assertThat(got).isEqualTo(want);
            assertThat(got).as("DNS, HTTP and Kafka rows").anyMatch(r -> r.startsWith("1\t")).anyMatch(r -> r.startsWith("2\t")).anyMatch(r -> r.startsWith("3\t"));
            assertThat(s.query(FlowQuery.all())).as("read back unchanged").containsExactlyInAnyOrderElementsOf(flows);
        }
    }

    private static dev.sieve.api.flow.Policy policy(String kind, String namespace, String name) {
        return dev.sieve.api.flow.Policy.newBuilder().setKind(kind).setNamespace(namespace).setName(name).build();
    }

    @Test
    void flowsReadBackExactlyAsWrittenWhateverTheyHoldOrLack() throws Exception {
        FlowStore s = store();
        Flow base = new TestFlows(21, "node-a", START).next();
        List<Flow> odd = List.of(
                base,
                base.toBuilder().clearSource().clearIP().setUuid("no-source-no-ip").build(),
                base.toBuilder().setSource(base.getSource().toBuilder().clearLabels().clearNamespace().clearPodName().clearWorkloads().clearIdentity())
                        .setUuid("empty-source").build(),
                base.toBuilder().setDestination(base.getDestination().toBuilder().clearLabels().addLabels("reserved:world").addLabels("cidr:0.0.0.0/0"))
                        .setUuid("other-labels").build(),
                // a field this relay does not know (a newer agent) survives the round trip
                base.toBuilder().setUuid("unknown-field").setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
                        .addField(4000, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build()).build(),
                Flow.newBuilder().setTime(base.getTime()).setUuid("bare").build(),
                // policies in every list; the blob leaves kind, namespace and name to the policies column
                // only where that column gives them back exactly (not with labels, a revision or a '/')
                base.toBuilder().setUuid("policies").clearIngressAllowedBy().clearIngressDeniedBy()
                        .addEgressAllowedBy(policy("NetworkPolicy", "prod", "allow-dns"))
                        .addEgressAllowedBy(dev.sieve.api.flow.Policy.getDefaultInstance())
                        .addIngressAllowedBy(policy("CiliumNetworkPolicy", "prod", "web/ingress"))
                        .addIngressAllowedBy(policy("CiliumClusterwideNetworkPolicy", "", "cluster-wide").toBuilder().addLabels("k8s:policy=x").setRevision(7))
                        .addEgressDeniedBy(policy("Odd/Kind", "prod", "deny"))
                        .addEgressDeniedBy(policy("", "ns/with/slash", ""))
                        .addIngressDeniedBy(policy("NetworkPolicy", "dev", "deny-all"))
                        .addIngressDeniedBy(policy("NetworkPolicy", "dev", "deny-all").toBuilder().setRevision(3)).build());
        List<Flow> timed = new ArrayList<>();
        for (int i = 0; i < odd.size(); i++) {
            var t = odd.get(i).getTime();
            timed.add(odd.get(i).toBuilder().setTime(t.toBuilder().setNanos(t.getNanos() + i)).build());
        }
        s.append(new StreamKey("node-a", "e"), 1, 1, timed);
        assertThat(s.query(FlowQuery.all())).containsExactlyElementsOf(timed);
        // a second store (another relay, empty caches) resolves the label sets from ClickHouse
        ClickHouseFlowStore other = open(((ClickHouseFlowStore) s).config().database(), 30);
        assertThat(other.query(FlowQuery.all())).containsExactlyElementsOf(timed);
    }

    @Test
    void userValuesAreEscapedNeverPastedIntoSql() throws Exception {
        FlowStore s = store();
        TestFlows g = new TestFlows(11, "node-a", START);
        List<Flow> odd = new ArrayList<>();
        for (Flow f : g.next(4)) odd.add(f);
        odd.set(0, odd.get(0).toBuilder().setSource(odd.get(0).getSource().toBuilder().setNamespace("we'ird\\ns").setPodName("p%_1")).build());
        odd.set(1, odd.get(1).toBuilder().setNodeName("node_%").build());
        s.append(new StreamKey("node-a", "e"), 1, 1, odd);
        var hostile = dev.sieve.api.flow.FlowFilter.newBuilder().addSourcePod("x' OR 1=1 --/").addDestinationIp("10.0.0.1') OR ('1'='1").build();
        assertThatThrownBy(() -> new FlowQuery(List.of(hostile), List.of(), null, null, 0, false, false)).isInstanceOf(InvalidQueryException.class);
        var hostilePod = dev.sieve.api.flow.FlowFilter.newBuilder().addSourcePod("x' OR 1=1 --/").build();
        assertThat(s.query(new FlowQuery(List.of(hostilePod), List.of(), null, null, 0, false, false))).isEmpty();
        // node-name values are FQDN patterns, validated as Hubble validates them: quotes and LIKE characters never get far
        var badNode = dev.sieve.api.flow.FlowFilter.newBuilder().addNodeName("a') OR ('1'='1").build();
        assertThatThrownBy(() -> new FlowQuery(List.of(badNode), List.of(), null, null, 0, false, false)).isInstanceOf(InvalidQueryException.class);
        var exact = dev.sieve.api.flow.FlowFilter.newBuilder().addSourcePod("we'ird\\ns/p%_").build();
        assertThat(s.query(new FlowQuery(List.of(exact), List.of(), null, null, 0, false, false))).extracting(Flow::getUuid).containsExactly(odd.get(0).getUuid());
        var likeChars = dev.sieve.api.flow.FlowFilter.newBuilder().addSourcePod("we'ird\\ns/p%%").build();
        assertThat(s.query(new FlowQuery(List.of(likeChars), List.of(), null, null, 0, false, false))).isEmpty();
        var node = dev.sieve.api.flow.FlowFilter.newBuilder().addNodeName("node_").build();
        assertThat(s.query(new FlowQuery(List.of(node), List.of(), null, null, 0, false, false))).isEmpty(); // "_" is no wildcard
        assertThat(s.size()).isEqualTo(4);
    }

    @Test
    void retentionDropsWholeDayPartitionsOlderThanTheConfiguredAge() throws Exception {
        ClickHouseFlowStore s = open("ret" + DB.incrementAndGet(), 3);
        s.migrate();
        Instant now = Instant.parse("2026-11-25T12:00:00Z");
        List<Flow> kept = new ArrayList<>();
        for (int day = 0; day < 6; day++) {
            TestFlows g = new TestFlows(day, "node-a", Timestamps.nanos(now.minusSeconds(86_400L * day)));
            List<Flow> b = g.next(50);
            s.append(new StreamKey("node-a", "d" + day), 1, 1, b);
            if (day < 3) kept.addAll(b);
        }
        assertThat(s.size()).isEqualTo(300);
        List<String> dropped = s.enforceRetention(now);
        assertThat(dropped).contains("flows/20261122", "flows/20261121", "flows/20261120", "flow_minutes/20261120", "policy_minutes/20261122", "node_minutes/20261121")
                .noneMatch(p -> p.endsWith("20261123") || p.endsWith("20261125"));
        assertThat(s.size()).isEqualTo(150);
        assertThat(s.query(FlowQuery.all()).stream().map(Flow::getUuid)).containsExactlyInAnyOrderElementsOf(kept.stream().map(Flow::getUuid).toList());
        assertThat(s.enforceRetention(now)).isEmpty();
    }
}
