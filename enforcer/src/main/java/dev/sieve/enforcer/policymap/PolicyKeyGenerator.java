package dev.sieve.enforcer.policymap;

import dev.sieve.enforcer.maps.Direction;
import dev.sieve.enforcer.maps.PolicyKey;
import dev.sieve.enforcer.maps.PolicyValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Turns an endpoint's {@link PolicyMapEntry} list into policy LPM trie keys.
 *
 * <p>The datapath does two longest-prefix lookups per packet, one for the peer's identity and
 * one for identity 0 (any peer), and combines them with {@link PolicyDecision#better}. So the
 * generator materialises, per (direction, identity) bucket, a trie whose longest match for
 * every (protocol, port) holds the decision of all that bucket's entries matching it
 * ("deny wins" is resolved here: a deny range splits the allow ranges around it, and the key
 * covering the denied ports holds DENY, so an allow can never shadow a deny):
 *
 * <ul>
 *   <li>entries with protocol any and a partial port range are expanded into TCP, UDP, SCTP,
 *       ICMP and ICMPv6 (the protocols whose "port" the datapath reads; for other protocols
 *       only port-wide entries can match);</li>
 *   <li>protocol-any entries (all ports) give the key (any protocol) = their decision W;</li>
 *   <li>per protocol p, base = decision of the protocol-any and p-wide entries; key (p, any
 *       port) = base when base differs from W;</li>
 *   <li>the port space of p is cut at every range boundary; each piece whose decision differs
 *       from base is merged with equal neighbours and stored as prefix-aligned port blocks.</li>
 * </ul>
 */
public final class PolicyKeyGenerator {
    static final int[] PORT_PROTOCOLS = {
        PolicyMapEntry.TCP, PolicyMapEntry.UDP, PolicyMapEntry.SCTP, PolicyMapEntry.ICMP, PolicyMapEntry.ICMPV6
    };

    private PolicyKeyGenerator() {}

    public static Map<PolicyKey, PolicyValue> generate(int endpointId, List<PolicyMapEntry> entries) {
        Map<Bucket, List<PolicyMapEntry>> buckets = new LinkedHashMap<>();
        for (PolicyMapEntry e : entries) {
            buckets.computeIfAbsent(new Bucket(e.direction(), e.peerIdentity()), b -> new ArrayList<>()).add(e);
        }
        Map<PolicyKey, PolicyValue> keys = new HashMap<>();
        buckets.forEach((b, list) -> generateBucket(endpointId, b, list, keys));
        return keys;
    }

    private record Bucket(Direction direction, int identity) {}

    private static void generateBucket(int ep, Bucket b, List<PolicyMapEntry> entries, Map<PolicyKey, PolicyValue> out) {
        List<PolicyMapEntry> wild = new ArrayList<>();
        Map<Integer, List<PolicyMapEntry>> byProto = new HashMap<>();
        for (PolicyMapEntry e : entries) {
            if (e.protocol() == PolicyMapEntry.ANY_PROTOCOL) {
                if (e.allPorts()) {
                    wild.add(e);
                } else {
                    for (int p : PORT_PROTOCOLS) {
                        byProto.computeIfAbsent(p, k -> new ArrayList<>()).add(e);
                    }
                }
            } else {
                byProto.computeIfAbsent(e.protocol(), k -> new ArrayList<>()).add(e);
            }
        }
        PolicyValue w = PolicyDecision.of(wild);
        if (w != null) {
            out.put(new PolicyKey(ep, b.identity(), b.direction(), 0, 0, 0), w);
        }
        byProto.forEach((proto, list) -> {
            List<PolicyMapEntry> baseEntries = new ArrayList<>(wild);
            List<PolicyMapEntry> ranged = new ArrayList<>();
            for (PolicyMapEntry e : list) {
                (e.allPorts() ? baseEntries : ranged).add(e);
            }
            PolicyValue base = PolicyDecision.of(baseEntries);
            if (base != null && !base.equals(w)) {
                out.put(new PolicyKey(ep, b.identity(), b.direction(), proto, 0, 8), base);
            }
            TreeSet<Integer> cuts = new TreeSet<>(List.of(0, 65536));
            for (PolicyMapEntry e : ranged) {
                cuts.add(e.portLow());
                cuts.add(e.portHigh() + 1);
            }
            Integer[] c = cuts.toArray(Integer[]::new);
            int runStart = -1;
            PolicyValue runValue = null;
            for (int i = 0; i + 1 < c.length; i++) {
                int lo = c[i];
                int hi = c[i + 1] - 1;
                List<PolicyMapEntry> covering = new ArrayList<>(baseEntries);
                for (PolicyMapEntry e : ranged) {
                    if (e.portLow() <= lo && e.portHigh() >= hi) {
                        covering.add(e);
                    }
                }
                PolicyValue v = PolicyDecision.of(covering);
                PolicyValue stored = Objects.equals(v, base) ? null : v;
                if (!Objects.equals(stored, runValue)) {
                    if (runValue != null) {
                        emitRange(ep, b, proto, runStart, lo - 1, runValue, out);
                    }
                    runStart = lo;
                    runValue = stored;
                }
            }
            if (runValue != null) {
                emitRange(ep, b, proto, runStart, 65535, runValue, out);
            }
        });
    }

    /** Splits lo..hi into prefix-aligned blocks. */
    static void emitRange(int ep, Bucket b, int proto, int lo, int hi, PolicyValue v, Map<PolicyKey, PolicyValue> out) {
        int a = lo;
        while (a <= hi) {
            int size = a == 0 ? 65536 : Integer.lowestOneBit(a);
            while (a + size - 1 > hi) {
                size >>= 1;
            }
            int bits = 16 - Integer.numberOfTrailingZeros(size);
            out.put(new PolicyKey(ep, b.identity(), b.direction(), proto, a, 8 + bits), v);
            a += size;
        }
    }
}
