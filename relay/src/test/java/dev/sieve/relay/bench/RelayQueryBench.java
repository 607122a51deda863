package dev.sieve.relay.bench;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.clickhouse.ClickHouseFlowStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * RelayBench's ClickHouse queries alone, against flows already stored (database {@code bench}, as
 * RelayBench leaves it with {@code -Dbench.clickhouse.url}): for comparing two versions of the read
 * path on the same data, one after the other. Args: the server's URL, and how many rounds.
 */
public final class RelayQueryBench {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        ClickHouseFlowStore s = new ClickHouseFlowStore(new ClickHouseFlowStore.Config(url, "bench", "default", "", 3650, Duration.ofSeconds(1), 500_000));
        s.migrate();
        Instant from = Timestamps.instant(RelayBench.START);
        FlowQuery dropped = FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).build());
        FlowQuery droppedToPod = FlowQuery.last(100, FlowFilter.newBuilder().addVerdict(Verdict.DROPPED).addDestinationPod("production/database").build());
        FlowQuery minute = FlowQuery.all().withRange(from, from.plusSeconds(60)).withNumber(1000, false);
        System.out.printf(Locale.ROOT, "stored %d flows%n", s.size());
        for (int r = 0; r < rounds; r++) {
            double[] a = RelayBench.time(3, 11, () -> s.query(dropped).size());
            double[] b = RelayBench.time(3, 11, () -> s.query(droppedToPod).size());
            double[] c = RelayBench.time(3, 11, () -> s.query(minute).size());
            System.out.printf(Locale.ROOT, "verdict_dropped_last_100 median %.1f p95 %.1f | dropped_to_pod_last_100 median %.1f | one_minute_last_1000 median %.1f p95 %.1f (%d results)%n",
                    a[0], a[1], b[0], c[0], c[1], s.query(minute).size());
        }
        s.close();
    }
}
