package dev.sieve.policy.identity;

import dev.sieve.policy.labels.LabelSet;
import java.util.Collection;

/**
 * Hands out one numeric identity per distinct label set. Implementations: {@link LocalIdentityAllocator}
 * for a single node; a kvstore-backed one for many nodes shares the numbers cluster-wide.
 */
public interface IdentityAllocator {

    /** Allocates (or references again) the identity of this label set. Reserved label sets get reserved ids. */
    Identity allocate(LabelSet labels);

    /** Drops one reference; the identity is freed when no reference is left. Returns true when freed. */
    boolean release(Identity identity);

    /** The identity with this number, or null. */
    Identity lookup(int id);

    /** The identity of this label set, or null when none is allocated. */
    Identity lookup(LabelSet labels);

    /** Every identity currently allocated, reserved ones included. */
    Collection<Identity> all();
}
