package dev.sieve.policy.compute;

import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.PolicyKey;
import java.util.HashMap;
import java.util.Map;

/** Gives every rule a stable number for as long as its policy exists (ids start at 1; 0 means "no rule"). */
public final class RuleRegistry {

    private final Map<String, RuleInfo> byKey = new HashMap<>();
    private final Map<Integer, RuleInfo> byId = new HashMap<>();
    private int next = 1;

    public RuleInfo register(PolicyKey policy, String path, Direction direction, boolean deny) {
        String k = policy + "#" + path;
        RuleInfo info = byKey.get(k);
        if (info == null || info.deny() != deny || info.direction() != direction) {
            info = new RuleInfo(next++, policy, path, direction, deny);
            byKey.put(k, info);
            byId.put(info.id(), info);
        }
        return info;
    }

    public RuleInfo lookup(int id) {
        return byId.get(id);
    }

    /** Forgets every rule of a deleted policy. */
    public void forget(PolicyKey policy) {
        byKey.values().removeIf(r -> {
            if (r.policy().equals(policy)) {
                byId.remove(r.id());
                return true;
            }
            return false;
        });
    }
}
