package dev.sieve.policy.compute;

import dev.sieve.policy.identity.ReservedIdentity;
import dev.sieve.policy.net.Cidr;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prefix -> identity, looked up by longest prefix (the user-space twin of the datapath's ipcache map).
 * Addresses no prefix covers belong to the world.
 */
public final class IpCache {

    private final Map<Cidr, Integer> prefixes = new HashMap<>();
    private final Map<Cidr, Integer> refs = new HashMap<>();

    public void upsert(Cidr prefix, int identity) {
        prefixes.put(prefix, identity);
        refs.merge(prefix, 1, Integer::sum);
    }

    /** Drops one reference to the prefix; the entry goes when none is left. */
    public void remove(Cidr prefix) {
        Integer n = refs.get(prefix);
        if (n == null) return;
        if (n > 1) {
            refs.put(prefix, n - 1);
        } else {
            refs.remove(prefix);
            prefixes.remove(prefix);
        }
    }

    public int lookup(byte[] address) {
        Cidr c = Cidr.host(address);
        for (int bits = c.bits(); bits >= 0; bits--) {
            Integer id = prefixes.get(bits == c.bits() ? c : new Cidr(address, bits));
            if (id != null) return id;
        }
        return ReservedIdentity.WORLD.id;
    }

    /** The identity of exactly this prefix, or null when the cache has no such entry (no longest-prefix match). */
    public Integer get(Cidr prefix) {
        return prefixes.get(prefix);
    }

    /** A copy of every entry, sorted by prefix, for programming the datapath. */
    public Map<Cidr, Integer> snapshot() {
        return new TreeMap<>(prefixes);
    }

    public int size() {
        return prefixes.size();
    }
}
