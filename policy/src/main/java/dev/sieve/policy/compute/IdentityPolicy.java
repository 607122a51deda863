package dev.sieve.policy.compute;

import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.l7.L7Rules;
import dev.sieve.policy.model.Direction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The compiled policy of one subject identity (every endpoint with that identity shares it): per direction,
 * whether a rule put it under policy, and its filters indexed by peer identity (0 = any peer). Peer
 * selections change in place as identities come and go; {@link #revision()} counts those changes.
 */
public final class IdentityPolicy {

    final Identity subject;
    final EnumMap<Direction, Boolean> selectedWithDefaultDeny = new EnumMap<>(Direction.class);
    final List<L4Filter> filters = new ArrayList<>();
    private final EnumMap<Direction, Map<Integer, List<L4Filter>>> byPeer = new EnumMap<>(Direction.class);
    private long revision;

    IdentityPolicy(Identity subject) {
        this.subject = subject;
        for (Direction d : Direction.values()) {
            byPeer.put(d, new HashMap<>());
            selectedWithDefaultDeny.put(d, false);
        }
    }

    public Identity subject() {
        return subject;
    }

    /** True when a rule selecting this identity turns on default deny for the direction. */
    public boolean selected(Direction d) {
        return selectedWithDefaultDeny.get(d);
    }

    public long revision() {
        return revision;
    }

    void addFilter(L4Filter f) {
        filters.add(f);
        if (f.peers == null) {
            peerAdded(f, 0);
        } else {
            for (int id : f.peers.selections) peerAdded(f, id);
        }
    }

    void peerAdded(L4Filter f, int peer) {
        byPeer.get(f.rule.direction()).computeIfAbsent(peer, k -> new ArrayList<>()).add(f);
        revision++;
    }

    void peerRemoved(L4Filter f, int peer) {
        List<L4Filter> l = byPeer.get(f.rule.direction()).get(peer);
        if (l != null) {
            l.remove(f);
            if (l.isEmpty()) byPeer.get(f.rule.direction()).remove(peer);
        }
        revision++;
    }

    /** Unhooks every filter from the selector cache; the policy is dead afterwards. */
    void detach() {
        for (L4Filter f : filters) if (f.peers != null) f.peers.users.remove(f);
        filters.clear();
        for (Map<Integer, List<L4Filter>> m : byPeer.values()) m.clear();
    }

    /** Looks traffic up in the entries: any deny wins; a plain allow beats a redirect. */
    public Match lookup(Direction d, int peer, int proto, int port) {
        Map<Integer, List<L4Filter>> m = byPeer.get(d);
        L4Filter deny = null, allow = null;
        List<L4Filter> redirects = null;
        List<RuleInfo> matched = null;
        List<L4Filter> exact = peer == 0 ? null : m.get(peer);
        List<L4Filter> any = m.get(0);
        for (int pass = 0; pass < 2; pass++) {
            List<L4Filter> list = pass == 0 ? exact : any;
            if (list == null) continue;
            for (L4Filter f : list) {
                if (!f.matchesL4(proto, port)) continue;
                if (matched == null) matched = new ArrayList<>(4);
                if (!matched.contains(f.rule)) matched.add(f.rule);
                switch (f.action) {
                    case DENY -> deny = lower(deny, f);
                    case ALLOW -> allow = lower(allow, f);
                    case REDIRECT -> {
                        if (redirects == null) redirects = new ArrayList<>(2);
                        redirects.add(f);
                    }
                }
            }
        }
        if (matched == null) return Match.NONE;
        if (matched.size() > 1) matched.sort(BY_ID);
        if (deny != null) return new Match(Action.DENY, deny.rule, matched, List.of(), List.of());
        if (allow != null) return new Match(Action.ALLOW, allow.rule, matched, List.of(), List.of());
        redirects.sort(Comparator.comparingInt(f -> f.rule.id()));
        List<L7Rules> l7 = new ArrayList<>(redirects.size());
        List<RuleInfo> owners = new ArrayList<>(redirects.size());
        for (L4Filter f : redirects) {
            l7.add(f.l7);
            owners.add(f.rule);
        }
        return new Match(Action.REDIRECT, redirects.getFirst().rule, matched, l7, owners);
    }

    private static final Comparator<RuleInfo> BY_ID = Comparator.comparingInt(RuleInfo::id);

    private static L4Filter lower(L4Filter a, L4Filter b) {
        return a == null || b.rule.id() < a.rule.id() ? b : a;
    }

    /** Every entry of the direction, one per (peer, filter). */
    public List<PolicyEntry> entries(Direction d) {
        List<PolicyEntry> out = new ArrayList<>();
        for (Map.Entry<Integer, List<L4Filter>> e : byPeer.get(d).entrySet()) {
            for (L4Filter f : e.getValue()) out.add(f.entry(e.getKey()));
        }
        out.sort(Comparator.comparingInt(PolicyEntry::peerIdentity).thenComparingInt(PolicyEntry::protocol)
                .thenComparingInt(PolicyEntry::portLow).thenComparingInt(PolicyEntry::ruleId));
        return out;
    }

    /** The entries of a direction for one peer identity only (0: any peer), in the order of {@link #entries(Direction)}. */
    public List<PolicyEntry> entries(Direction d, int peer) {
        List<L4Filter> filters = byPeer.get(d).get(peer);
        if (filters == null) return List.of();
        List<PolicyEntry> out = new ArrayList<>(filters.size());
        for (L4Filter f : filters) out.add(f.entry(peer));
        out.sort(Comparator.comparingInt(PolicyEntry::protocol).thenComparingInt(PolicyEntry::portLow).thenComparingInt(PolicyEntry::ruleId));
        return out;
    }

    public int entryCount() {
        int n = 0;
        for (Map<Integer, List<L4Filter>> m : byPeer.values()) for (List<L4Filter> l : m.values()) n += l.size();
        return n;
    }
}
