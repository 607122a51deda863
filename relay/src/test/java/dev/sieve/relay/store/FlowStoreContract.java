package dev.sieve.relay.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.support.FilterCases;
import dev.sieve.relay.support.TestFlows;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every FlowStore must do; subclasses supply a fresh, empty store. */
public abstract class FlowStoreContract {
    protected abstract FlowStore store();

    protected static final long START = Timestamps.nanos(Instant.parse("2026-11-20T10:00:00Z"));

    /** 3,000 flows from two nodes, stored in batches of 100; returns them sorted by time. */
    protected List<Flow> load(FlowStore s) throws Exception {
        List<Flow> all = new ArrayList<>();
        for (String node : List.of("node-a", "node-b")) {
            TestFlows g = new TestFlows(node.hashCode(), node, START);
            for (int b = 0; b < 15; b++) {
                List<Flow> batch = g.next(100);
                s.append(new StreamKey(node, "e1"), b + 1, b * 100L + 1, batch);
                all.addAll(batch);
            }
        }
        all.sort(Comparator.comparingLong(Timestamps::nanos));
        return all;
    }

    private static List<String> ids(List<Flow> fs) {
        return fs.stream().map(Flow::getUuid).toList();
    }

    @Test
    void everyFilterMatchesTheReferenceMatcher() throws Exception {
        FlowStore s = store();
        List<Flow> all = load(s);
        for (Map.Entry<String, FlowFilter> e : FilterCases.all().entrySet()) {
            FlowQuery white = new FlowQuery(List.of(e.getValue()), List.of(), null, null, 0, false, false);
            List<Flow> want = all.stream().filter(white.matcher()).toList();
            assertThat(ids(s.query(white))).as("whitelist " + e.getKey()).containsExactlyInAnyOrderElementsOf(ids(want));
            assertThat(want).as("case " + e.getKey() + " selects something").isNotEmpty();
            FlowQuery black = new FlowQuery(List.of(), List.of(e.getValue()), null, null, 0, false, false);
            List<Flow> wantB = all.stream().filter(black.matcher()).toList();
            assertThat(ids(s.query(black))).as("blacklist " + e.getKey()).containsExactlyInAnyOrderElementsOf(ids(wantB));
        }
        // whitelist OR + blacklist
        FlowQuery q = new FlowQuery(List.of(FilterCases.all().get("verdict"), FilterCases.all().get("protocol")),
                List.of(FilterCases.all().get("source_pod-ns")), null, null, 0, false, false);
        assertThat(ids(s.query(q))).containsExactlyInAnyOrderElementsOf(ids(all.stream().filter(q.matcher()).toList()));
    }

    @Test
    void lastFirstAndTimeRange() throws Exception {
        FlowStore s = store();
        List<Flow> all = load(s);
        FlowFilter dropped = FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build();
        List<Flow> drops = all.stream().filter(f -> f.getVerdict() == Verdict.DROPPED).toList();
        assertThat(ids(s.query(FlowQuery.last(10, dropped)))).containsExactlyElementsOf(ids(drops.subList(drops.size() - 10, drops.size())));
        assertThat(ids(s.query(FlowQuery.last(10, dropped).withNumber(10, true)))).containsExactlyElementsOf(ids(drops.subList(0, 10)));
        Instant from = Timestamps.instant(Timestamps.nanos(all.get(500))), to = Timestamps.instant(Timestamps.nanos(all.get(1500)));
        List<Flow> inRange = s.query(FlowQuery.all().withRange(from, to));
        assertThat(ids(inRange)).containsExactlyElementsOf(ids(all.subList(500, 1501)));
        // last N inside a time range, with an inexact filter
        FlowFilter label = FlowFilter.newBuilder().addSourceLabel("k8s:app=frontend").build();
        FlowQuery q = FlowQuery.last(7, label).withRange(from, to);
        List<Flow> want = all.subList(500, 1501).stream().filter(q.matcher()).toList();
        assertThat(ids(s.query(q))).containsExactlyElementsOf(ids(want.subList(want.size() - 7, want.size())));
    }

    @Test
    void resentAndOverlappingBatchesAreStoredOnce() throws Exception {
        FlowStore s = store();
        TestFlows g = new TestFlows(1, "node-a", START);
        List<Flow> b1 = g.next(50), b2 = g.next(50);
        StreamKey k = new StreamKey("node-a", "epoch-1");
        s.append(k, 1, 1, b1);
        s.append(k, 1, 1, b1); // resend
        List<Flow> overlap = new ArrayList<>(b1.subList(25, 50));
        overlap.addAll(b2);
        s.append(k, 2, 26, overlap); // partial overlap by flow position
        assertThat(s.mark(k)).isEqualTo(new FlowStore.Mark(2, 100));
        assertThat(s.mark(new StreamKey("node-a", "epoch-2"))).isEqualTo(FlowStore.Mark.NONE);
        List<Flow> stored = s.query(FlowQuery.all());
        assertThat(stored).hasSize(100);
        assertThat(ids(stored)).doesNotHaveDuplicates();
        assertThat(s.size()).isEqualTo(100);
    }

    @Test
    void aggregates() throws Exception {
        FlowStore s = store();
        List<Flow> all = load(s);
        Instant from = Instant.parse("2026-11-20T00:00:00Z"), to = Instant.parse("2026-11-21T00:00:00Z");
        List<Aggregates.Bucket> buckets = s.counts(from, to, Duration.ofMinutes(1), null);
        assertThat(buckets.stream().mapToLong(Aggregates.Bucket::flows).sum()).isEqualTo(all.size());
        long drops = all.stream().filter(f -> f.getVerdict() == Verdict.DROPPED).count();
        assertThat(buckets.stream().mapToLong(Aggregates.Bucket::drops).sum()).isEqualTo(drops);
        List<Aggregates.Edge> edges = s.serviceMap(from, to, null);
        assertThat(edges.stream().mapToLong(Aggregates.Edge::flows).sum()).isEqualTo(all.size());
        long feToDb = all.stream().filter(f -> f.getSource().getWorkloads(0).getName().equals("frontend")
                && f.getDestination().getWorkloads(0).getName().equals("database") && f.getSource().getNamespace().equals("production")
                && f.getDestination().getNamespace().equals("production")).count();
        assertThat(edges.stream().filter(e -> e.srcWorkload().equals("frontend") && e.dstWorkload().equals("database")
                && e.srcNamespace().equals("production") && e.dstNamespace().equals("production")).mapToLong(Aggregates.Edge::flows).sum()).isEqualTo(feToDb);
        long prodNs = all.stream().filter(f -> f.getSource().getNamespace().equals("production") || f.getDestination().getNamespace().equals("production")).count();
        assertThat(s.counts(from, to, Duration.ofMinutes(5), "production").stream().mapToLong(Aggregates.Bucket::flows).sum()).isEqualTo(prodNs);
        List<Aggregates.PolicyUse> pol = s.policies(from, to);
        assertThat(pol.stream().mapToLong(Aggregates.PolicyUse::flows).sum()).isEqualTo(all.stream().filter(f -> f.getVerdict() == Verdict.DROPPED || f.getVerdict() == Verdict.FORWARDED).count());
        assertThat(pol).anySatisfy(p -> {
            assertThat(p.effect()).isEqualTo("deny");
            assertThat(p.kind()).isEqualTo("CiliumNetworkPolicy");
            assertThat(p.byVerdict()).containsOnlyKeys("DROPPED");
        });
    }
}
