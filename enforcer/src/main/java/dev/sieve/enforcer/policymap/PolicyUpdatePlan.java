package dev.sieve.enforcer.policymap;

import dev.sieve.enforcer.maps.Action;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The change from the current to the desired keys of one endpoint, in an order that never lets
 * through traffic that both the old and the new policy deny:
 * (1) write new or changed DENY keys, (2) delete stale ALLOW/REDIRECT keys, (3) write new or
 * changed ALLOW/REDIRECT keys, (4) delete stale DENY keys. After (1)+(2) the map allows only
 * what the new policy allows; after (3) it is the new policy plus stale denies.
 */
public record PolicyUpdatePlan(Map<PolicyKey, PolicyValue> upsertDeny, List<PolicyKey> deleteAllow,
                               Map<PolicyKey, PolicyValue> upsertAllow, List<PolicyKey> deleteDeny) {

    public static PolicyUpdatePlan between(Map<PolicyKey, PolicyValue> current, Map<PolicyKey, PolicyValue> desired) {
        Map<PolicyKey, PolicyValue> upsertDeny = new java.util.LinkedHashMap<>();
        Map<PolicyKey, PolicyValue> upsertAllow = new java.util.LinkedHashMap<>();
        List<PolicyKey> deleteAllow = new ArrayList<>();
        List<PolicyKey> deleteDeny = new ArrayList<>();
        desired.forEach((k, v) -> {
            if (!v.equals(current.get(k))) {
                (v.action() == Action.DENY ? upsertDeny : upsertAllow).put(k, v);
            }
        });
        current.forEach((k, v) -> {
            if (!desired.containsKey(k)) {
                (v.action() == Action.DENY ? deleteDeny : deleteAllow).add(k);
            }
        });
        return new PolicyUpdatePlan(upsertDeny, deleteAllow, upsertAllow, deleteDeny);
    }

    public boolean isEmpty() {
        return upsertDeny.isEmpty() && deleteAllow.isEmpty() && upsertAllow.isEmpty() && deleteDeny.isEmpty();
    }

    public int changes() {
        return upsertDeny.size() + deleteAllow.size() + upsertAllow.size() + deleteDeny.size();
    }
}
