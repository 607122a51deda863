package dev.sieve.policy.labels;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A label selector: all requirements must hold. The empty selector selects everything. Selectors are
 * normalized (sorted, deduplicated), so equal selectors are equal objects and can share a cache slot.
 */
public record LabelSelector(List<Requirement> requirements) {

    public static final LabelSelector ALL = new LabelSelector(List.of());

    public LabelSelector {
        requirements = requirements.stream().sorted().distinct().toList();
    }

    public static LabelSelector of(Requirement... reqs) {
        return new LabelSelector(List.of(reqs));
    }

    public static LabelSelector matchLabel(String rawKey, String value) {
        return of(Requirement.of(rawKey, Requirement.Operator.IN, List.of(value)));
    }

    public boolean matches(LabelSet labels) {
        for (Requirement r : requirements) {
            if (!r.matches(labels)) return false;
        }
        return true;
    }

    public boolean isWildcard() {
        return requirements.isEmpty();
    }

    /** True when some requirement names this key (any source accepted by {@code source}). */
    public boolean hasKey(String key) {
        for (Requirement r : requirements) if (r.key().equals(key)) return true;
        return false;
    }

    public boolean hasSource(String source) {
        for (Requirement r : requirements) if (r.source().equals(source)) return true;
        return false;
    }

    public LabelSelector and(Collection<Requirement> more) {
        if (more.isEmpty()) return this;
        List<Requirement> all = new ArrayList<>(requirements);
        all.addAll(more);
        return new LabelSelector(all);
    }

    @Override
    public String toString() {
        return requirements.isEmpty() ? "{}" : requirements.stream().map(Requirement::toString).collect(Collectors.joining(", ", "{", "}"));
    }
}
