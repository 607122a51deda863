package dev.sieve.policy.compute;

import dev.sieve.policy.labels.LabelSelector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A selector and the identities it selects right now, kept current by the {@link SelectorCache}. The
 * filters that use it are notified when an identity starts or stops being selected.
 */
public final class CachedSelector {

    final LabelSelector selector;
    final Set<Integer> selections = new HashSet<>();
    final Set<L4Filter> users = Collections.newSetFromMap(new IdentityHashMap<>());

    CachedSelector(LabelSelector selector) {
        this.selector = selector;
    }

    public LabelSelector selector() {
        return selector;
    }

    public Set<Integer> selections() {
        return Collections.unmodifiableSet(selections);
    }

    List<L4Filter> usersSnapshot() {
        return new ArrayList<>(users);
    }

    @Override
    public String toString() {
        return selector + " -> " + selections;
    }
}
