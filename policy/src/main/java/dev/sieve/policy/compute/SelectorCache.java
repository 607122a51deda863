package dev.sieve.policy.compute;

import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.labels.LabelSelector;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Every distinct peer selector in use, each with the identities it selects. A new identity is matched
 * against every cached selector once; a new selector against every identity once. Users (filters) hear of
 * changes so endpoint policies update incrementally instead of being recomputed.
 */
public final class SelectorCache {

    private final Map<LabelSelector, CachedSelector> selectors = new HashMap<>();
    private final Map<Integer, Identity> identities = new HashMap<>();

    /** The cached selector for {@code sel}, created and evaluated against all identities if new. */
    public CachedSelector intern(LabelSelector sel) {
        CachedSelector cs = selectors.get(sel);
        if (cs == null) {
            cs = new CachedSelector(sel);
            for (Identity id : identities.values()) {
                if (sel.matches(id.labels())) cs.selections.add(id.id());
            }
            selectors.put(sel, cs);
        }
        return cs;
    }

    public void addIdentity(Identity id) {
        if (identities.putIfAbsent(id.id(), id) != null) return;
        for (CachedSelector cs : selectors.values()) {
            if (cs.selector.matches(id.labels()) && cs.selections.add(id.id())) {
                for (L4Filter f : cs.users) f.owner.peerAdded(f, id.id());
            }
        }
    }

    public void removeIdentity(int id) {
        if (identities.remove(id) == null) return;
        for (CachedSelector cs : selectors.values()) {
            if (cs.selections.remove(id)) {
                for (L4Filter f : cs.users) f.owner.peerRemoved(f, id);
            }
        }
    }

    /** Drops selectors no filter uses any more. */
    public void gc() {
        selectors.values().removeIf(cs -> cs.users.isEmpty());
    }

    public Identity identity(int id) {
        return identities.get(id);
    }

    public Collection<Identity> identities() {
        return identities.values();
    }

    public int size() {
        return selectors.size();
    }
}
