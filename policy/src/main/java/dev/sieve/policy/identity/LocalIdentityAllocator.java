package dev.sieve.policy.identity;

import dev.sieve.policy.labels.LabelSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * In-process allocator: reserved identities are fixed, cluster identities count up from 256, CIDR and FQDN
 * identities from the local scope (bit 24). Numbers of freed identities are not reused within a run, so a
 * stale number in a flow never names a different workload.
 */
public final class LocalIdentityAllocator implements IdentityAllocator {

    private final Map<LabelSet, Identity> byLabels = new HashMap<>();
    private final Map<Integer, Identity> byId = new HashMap<>();
    private final Map<Integer, Integer> refs = new HashMap<>();
    private int nextCluster = ReservedIdentity.MIN_CLUSTER_IDENTITY;
    private int nextLocal = ReservedIdentity.LOCAL_IDENTITY_FLAG + 1;

    public LocalIdentityAllocator() {
        for (ReservedIdentity r : ReservedIdentity.values()) {
            if (r == ReservedIdentity.UNKNOWN) continue;
            Identity id = r.identity();
            byLabels.put(id.labels(), id);
            byId.put(id.id(), id);
        }
    }

    @Override
    public synchronized Identity allocate(LabelSet labels) {
        Identity id = byLabels.get(labels);
        if (id == null) {
            int n = Identity.isLocalScope(labels) ? nextLocal++ : nextCluster++;
            id = new Identity(n, labels);
            byLabels.put(labels, id);
            byId.put(n, id);
        }
        if (!id.isReserved()) refs.merge(id.id(), 1, Integer::sum);
        return id;
    }

    @Override
    public synchronized boolean release(Identity identity) {
        if (identity.isReserved()) return false;
        Integer n = refs.get(identity.id());
        if (n == null) return false;
        if (n > 1) {
            refs.put(identity.id(), n - 1);
            return false;
        }
        refs.remove(identity.id());
        byId.remove(identity.id());
        byLabels.remove(identity.labels());
        return true;
    }

    @Override
    public synchronized Identity lookup(int id) {
        return byId.get(id);
    }

    @Override
    public synchronized Identity lookup(LabelSet labels) {
        return byLabels.get(labels);
    }

    @Override
    public synchronized Collection<Identity> all() {
        List<Identity> out = new ArrayList<>(byId.values());
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }
}
