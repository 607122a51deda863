package dev.sieve.relay.store.clickhouse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Endpoint label sets ClickHouse is known to hold ({@code label_sets}: inserted by this relay, or read
 * back): what writers need not insert again and what readers resolve ids with. Cleared past
 * {@link #MAX} (inserting a set again is harmless, a reader reloads).
 */
final class LabelSets {
    private static final int MAX = 1_000_000;
    private final Map<Long, List<String>> known = new ConcurrentHashMap<>();
    private final ClickHouseConnection ch;
    private volatile long loadedAt;

    LabelSets(ClickHouseConnection ch) {
        this.ch = ch;
    }

    boolean known(long id) {
        return known.containsKey(id);
    }

    /** Sets now held by ClickHouse. */
    void stored(Map<Long, List<String>> sets) {
        if (known.size() > MAX) known.clear();
        known.putAll(sets);
    }

    /** The labels of a set id; an unknown id reloads the table (small: one row per distinct set), at most every 100 ms. */
    List<String> labels(long id) throws IOException {
        List<String> l = known.get(id);
        if (l != null) return l;
        synchronized (known) {
            l = known.get(id);
            if (l == null && System.nanoTime() - loadedAt > 100_000_000L) {
                loadedAt = System.nanoTime();
                if (known.size() > MAX) known.clear();
                try {
                    ch.read(ch.sql("SELECT id, labels FROM {db}.label_sets"), (in, first) -> {
                        long setId = in.u64(first);
                        int count = (int) in.varint();
                        List<String> labels = new ArrayList<>(count);
                        for (int i = 0; i < count; i++) labels.add(in.str());
                        known.put(setId, List.copyOf(labels));
                        return true;
                    });
                } catch (Exception e) {
                    throw new IOException("reading label sets: " + ClickHouseConnection.rootMessage(e), e);
                }
                l = known.get(id);
            }
        }
        return l == null ? List.of() : l; // a set lost with its table: the flow reads back without labels
    }
}
