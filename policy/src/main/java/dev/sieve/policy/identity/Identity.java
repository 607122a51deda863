package dev.sieve.policy.identity;

import dev.sieve.policy.labels.Label;
import dev.sieve.policy.labels.LabelSet;

/** A numeric security identity and the label set it stands for. */
public record Identity(int id, LabelSet labels) {

    public boolean isReserved() {
        return id > 0 && id < ReservedIdentity.MIN_CLUSTER_IDENTITY;
    }

    public boolean isLocal() {
        return (id & ReservedIdentity.LOCAL_IDENTITY_FLAG) != 0;
    }

    /** Identity labels a CIDR or FQDN peer has, which live in the node-local scope. */
    public static boolean isLocalScope(LabelSet labels) {
        for (Label l : labels) {
            if (l.source().equals(Label.SOURCE_CIDR) || l.source().equals(Label.SOURCE_FQDN)) return true;
        }
        return false;
    }

    @Override
    public String toString() {
        return id + " " + labels;
    }
}
