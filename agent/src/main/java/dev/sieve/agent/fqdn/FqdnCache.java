package dev.sieve.agent.fqdn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What DNS answers taught, per endpoint: (endpoint address, name, address) -> when it expires and why it is
 * kept ({@code lookup}: the answer's TTL, at least the minimum TTL; {@code connection}: expired, kept while a
 * connection to it lives). Bounded per endpoint and name, and in total; the entries expiring soonest go first.
 * Not thread-safe: the learner serializes access.
 */
public final class FqdnCache {

    public static final String SOURCE_LOOKUP = "lookup";
    public static final String SOURCE_CONNECTION = "connection";

    /** One learned address. Times are epoch milliseconds. */
    public record Entry(String endpoint, String name, String address, long learnedAt, long expiresAt, String source) {
        public Key key() {
            return new Key(endpoint, name, address);
        }
    }

    public record Key(String endpoint, String name, String address) {}

    /** What a change did: entries that are new (to add to the engine) and entries that went (to remove). */
    public record Change(List<Entry> added, List<Entry> removed) {
        public boolean isEmpty() {
            return added.isEmpty() && removed.isEmpty();
        }
    }

    private final Map<Key, Entry> entries = new HashMap<>();
    /** endpoint + name -> its entries' keys, for the per-name bound without a scan. */
    private final Map<String, java.util.Set<Key>> byName = new HashMap<>();
    /** Every entry, soonest to expire first: what the total bound evicts. */
    private final java.util.TreeSet<Entry> byExpiry = new java.util.TreeSet<>(Comparator.comparingLong((Entry e) -> e.expiresAt)
            .thenComparing(Entry::endpoint).thenComparing(Entry::name).thenComparing(Entry::address));
    private final long minTtlMillis;
    private final int maxPerName;
    private final int maxEntries;

    public FqdnCache(long minTtlSeconds, int maxPerName, int maxEntries) {
        this.minTtlMillis = minTtlSeconds * 1000;
        this.maxPerName = maxPerName;
        this.maxEntries = maxEntries;
    }

    public int size() {
        return entries.size();
    }

    private int convertedLastExpire;

    /** How many entries the last {@link #expire} kept for a live connection that it had not kept before. */
    public int convertedLastExpire() {
        return convertedLastExpire;
    }

    /** The entry of {@code key}, or null. */
    public Entry get(Key key) {
        return entries.get(key);
    }

    /** When the next entry expires (epoch ms), Long.MAX_VALUE when empty. */
    public long nextExpiry() {
        return byExpiry.isEmpty() ? Long.MAX_VALUE : byExpiry.first().expiresAt;
    }

    /** Records that {@code name} answered {@code addresses} to {@code endpoint}, valid for {@code ttlSeconds}. */
    public Change learn(String endpoint, String name, List<String> addresses, long ttlSeconds, long now) {
        long expires = now + Math.max(ttlSeconds * 1000, minTtlMillis);
        List<Entry> added = new ArrayList<>(), removed = new ArrayList<>();
        for (String a : addresses) {
            Key k = new Key(endpoint, name, a);
            Entry old = entries.get(k);
            Entry e = new Entry(endpoint, name, a, old != null ? old.learnedAt : now, Math.max(expires, old != null && old.source.equals(SOURCE_LOOKUP) ? old.expiresAt : 0), SOURCE_LOOKUP);
            put(e);
            if (old == null) added.add(e);
        }
        // per endpoint and name, then in total: the ones expiring soonest go
        List<Entry> sameName = byName.getOrDefault(endpoint + "|" + name, java.util.Set.of()).stream().map(entries::get).toList();
        if (sameName.size() > maxPerName) evict(sameName, sameName.size() - maxPerName, addresses, added, removed);
        if (entries.size() > maxEntries) {
            int n = entries.size() - maxEntries;
            List<Entry> doomed = new ArrayList<>(n);
            for (Entry e : byExpiry) {
                if (doomed.size() == n) break;
                if (!(e.endpoint.equals(endpoint) && addresses.contains(e.address))) doomed.add(e);
            }
            for (Entry e : doomed) {
                remove(e.key());
                if (!added.remove(e)) removed.add(e);
            }
        }
        return new Change(added, removed);
    }

    private void evict(List<Entry> candidates, int n, List<String> keep, List<Entry> added, List<Entry> removed) {
        List<Entry> order = new ArrayList<>(candidates);
        // what this answer just said stays unless nothing else can go, then the soonest to expire go first
        order.sort(Comparator.comparing((Entry e) -> keep.contains(e.address)).thenComparingLong(e -> e.expiresAt));
        for (int i = 0; i < n && i < order.size(); i++) {
            Entry e = order.get(i);
            remove(e.key());
            if (!added.remove(e)) removed.add(e);
        }
    }

    /**
     * Removes what expired before {@code now}, except entries {@code inUse} says a live connection still uses:
     * those stay as {@code connection} entries until it closes.
     */
    public Change expire(long now, Predicate<Entry> inUse) {
        List<Entry> removed = new ArrayList<>();
        convertedLastExpire = 0;
        List<Entry> due = new ArrayList<>();
        for (Entry e : byExpiry) {
            if (e.expiresAt > now) break;
            due.add(e);
        }
        for (Entry e : due) {
            if (inUse.test(e)) {
                if (!e.source.equals(SOURCE_CONNECTION)) {
                    put(new Entry(e.endpoint, e.name, e.address, e.learnedAt, e.expiresAt, SOURCE_CONNECTION));
                    convertedLastExpire++;
                }
                continue;
            }
            remove(e.key());
            removed.add(e);
        }
        return new Change(List.of(), removed);
    }

    private void put(Entry e) {
        Entry old = entries.put(e.key(), e);
        if (old != null) byExpiry.remove(old);
        byExpiry.add(e);
        byName.computeIfAbsent(e.endpoint + "|" + e.name, k -> new java.util.HashSet<>()).add(e.key());
    }

    private void remove(Key k) {
        Entry old = entries.remove(k);
        if (old == null) return;
        byExpiry.remove(old);
        java.util.Set<Key> s = byName.get(k.endpoint() + "|" + k.name());
        if (s != null && s.remove(k) && s.isEmpty()) byName.remove(k.endpoint() + "|" + k.name());
    }

    /** Every entry, by endpoint, name and address. */
    public List<Entry> list() {
        Map<Key, Entry> sorted = new TreeMap<>(Comparator.comparing(Key::endpoint).thenComparing(Key::name).thenComparing(Key::address));
        sorted.putAll(entries);
        return List.copyOf(sorted.values());
    }

    /** Forgets the entries of an endpoint that is gone. */
    public Change forgetEndpoint(String endpoint) {
        List<Entry> removed = new ArrayList<>();
        for (Entry e : List.copyOf(entries.values())) {
            if (e.endpoint.equals(endpoint)) {
                remove(e.key());
                removed.add(e);
            }
        }
        return new Change(List.of(), removed);
    }

    // ---- persistence: one tab-separated line per entry, written to a temporary file and renamed ----------------

    public void save(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        StringBuilder sb = new StringBuilder("# sieve fqdn cache v1: endpoint name address learned_ms expires_ms source\n");
        for (Entry e : list()) {
            sb.append(e.endpoint).append('\t').append(e.name).append('\t').append(e.address).append('\t').append(e.learnedAt)
                    .append('\t').append(e.expiresAt).append('\t').append(e.source).append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Loads a saved cache (entries already there stay). A line that cannot be read is skipped and counted; the
     * result is the number of lines skipped.
     */
    public int load(Path file) throws IOException {
        if (!Files.exists(file)) return 0;
        int bad = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t");
            try {
                if (f.length != 6 || !(f[5].equals(SOURCE_LOOKUP) || f[5].equals(SOURCE_CONNECTION))) throw new IllegalArgumentException();
                dev.sieve.policy.net.Cidr.parseAddress(f[0]);
                dev.sieve.policy.net.Cidr.parseAddress(f[2]);
                Entry e = new Entry(f[0], f[1], f[2], Long.parseLong(f[3]), Long.parseLong(f[4]), f[5]);
                put(e);
            } catch (RuntimeException ex) {
                bad++;
            }
        }
        return bad;
    }
}
