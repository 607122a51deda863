package dev.sieve.policy.labels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An immutable, sorted set of labels with at most one label per (source, key). Two label sets with
 * the same labels are equal, which is what makes them usable as identity keys.
 */
public final class LabelSet implements Iterable<Label> {

    public static final LabelSet EMPTY = new LabelSet(new Label[0]);

    private final Label[] labels;
    private final Map<String, Object> byKey; // key -> Label or Label[] when several sources share a key
    private final int hash;

    private LabelSet(Label[] sorted) {
        this.labels = sorted;
        this.byKey = new HashMap<>(Math.max(4, sorted.length * 2));
        for (Label l : sorted) {
            Object prev = byKey.get(l.key());
            if (prev == null) {
                byKey.put(l.key(), l);
            } else if (prev instanceof Label p) {
                byKey.put(l.key(), new Label[] {p, l});
            } else {
                Label[] arr = (Label[]) prev;
                Label[] next = Arrays.copyOf(arr, arr.length + 1);
                next[arr.length] = l;
                byKey.put(l.key(), next);
            }
        }
        this.hash = Arrays.hashCode(sorted);
    }

    public static LabelSet of(Collection<Label> labels) {
        Map<String, Label> unique = new HashMap<>();
        for (Label l : labels) {
            unique.put(l.source() + ":" + l.key(), l);
        }
        Label[] arr = unique.values().toArray(new Label[0]);
        Arrays.sort(arr);
        return new LabelSet(arr);
    }

    public static LabelSet of(Label... labels) {
        return of(Arrays.asList(labels));
    }

    /** Parses {@code source:key=value} strings, as printed by {@link Label#toString()}. */
    public static LabelSet parse(String... labels) {
        List<Label> out = new ArrayList<>();
        for (String s : labels) {
            int eq = s.indexOf('=');
            String key = eq < 0 ? s : s.substring(0, eq);
            String value = eq < 0 ? "" : s.substring(eq + 1);
            Label l = Label.parseKey(key, value);
            out.add(l.source().equals(Label.SOURCE_ANY) ? new Label(Label.SOURCE_K8S, l.key(), value) : l);
        }
        return of(out);
    }

    public LabelSet with(Collection<Label> more) {
        List<Label> all = new ArrayList<>(Arrays.asList(labels));
        all.addAll(more);
        return of(all);
    }

    /** The value of the label with this key whose source the selector source accepts, or null. */
    public String get(String selectorSource, String key) {
        Object o = byKey.get(key);
        if (o == null) return null;
        if (o instanceof Label l) return matchSource(l, selectorSource);
        for (Label l : (Label[]) o) {
            String v = matchSource(l, selectorSource);
            if (v != null) return v;
        }
        return null;
    }

    private static String matchSource(Label l, String selectorSource) {
        return selectorSource.equals(Label.SOURCE_ANY) || selectorSource.equals(l.source()) ? l.value() : null;
    }

    public boolean has(String selectorSource, String key) {
        return get(selectorSource, key) != null;
    }

    public boolean hasSource(String source) {
        for (Label l : labels) if (l.source().equals(source)) return true;
        return false;
    }

    public int size() {
        return labels.length;
    }

    public boolean isEmpty() {
        return labels.length == 0;
    }

    public List<Label> asList() {
        return List.of(labels);
    }

    @Override
    public Iterator<Label> iterator() {
        return Arrays.asList(labels).iterator();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelSet other && hash == other.hash && Arrays.equals(labels, other.labels);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return Arrays.stream(labels).map(Label::toString).collect(Collectors.joining(",", "[", "]"));
    }
}
