package dev.sieve.policy.property;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.compute.Action;
import dev.sieve.policy.compute.EndpointPolicy;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.PolicyEntry;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.model.Direction;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.testing.RandomWorld;
import dev.sieve.policy.testing.ReferenceEvaluator;
import dev.sieve.policy.testing.ReferenceEvaluator.Outcome;
import dev.sieve.policy.testing.ReferenceEvaluator.RefPeer;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property: for random policies over a random small cluster and random connections, three readings agree:
 * (a) {@link Tracer#trace}; (b) a lookup in the flat entries the datapath is programmed with
 * ({@link EndpointPolicy#entries} and {@link PolicyEntry#matches}, with the documented precedence: any
 * matching DENY wins, else ALLOW, else REDIRECT, else enforced ? drop : pass); (c) the independent
 * {@link ReferenceEvaluator} over the parsed rules. A failure prints the world's seed, which
 * {@code -Dsieve.property.seed=N} replays alone.
 */
class TraceEntriesReferenceAgreementTest {

    static final long SEED = 0x5133_7E57L;
    static final int WORLDS = Integer.getInteger("sieve.property.worlds", 500);
    static final int CONNECTIONS = 20;

    @Test
    void traceEntriesAndReferenceAgree() throws Exception {
        Long only = Long.getLong("sieve.property.seed");
        Random seeds = new Random(SEED);
        int checked = 0;
        for (int w = 0; w < WORLDS; w++) {
            long seed = seeds.nextLong();
            if (only != null && seed != only) continue;
            checked += checkWorld(seed);
        }
        assertThat(checked).isGreaterThanOrEqualTo(only != null ? 1 : WORLDS * CONNECTIONS);
    }

    private int checkWorld(long seed) throws ValidationException {
        Random r = new Random(seed);
        RandomWorld world = new RandomWorld(r);
        String yaml = world.cluster() + world.policies(1 + r.nextInt(4));
        EnforcementMode mode = r.nextInt(10) == 0 ? EnforcementMode.ALWAYS : r.nextInt(15) == 0 ? EnforcementMode.NEVER : EnforcementMode.DEFAULT;
        ManifestSet set;
        try {
            set = ManifestParser.parse("world-" + seed + ".yaml", yaml);
        } catch (ValidationException e) {
            throw new AssertionError("seed " + seed + ": the generator wrote an invalid policy set\n" + e.getMessage() + "\n" + yaml, e);
        }
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), mode, null);
        engine.load(set);
        Tracer tracer = new Tracer(engine);
        ReferenceEvaluator ref = new ReferenceEvaluator(set, mode);
        for (int c = 0; c < CONNECTIONS; c++) {
            String from = world.peer(), to = world.peer();
            if (!from.contains("/") && !to.contains("/")) to = world.pods.get(r.nextInt(world.pods.size()));
            String[] pp = RandomWorld.PORTS.get(r.nextInt(RandomWorld.PORTS.size())).split("/");
            Protocol proto = Protocol.parse(pp[1]);
            int port = Integer.parseInt(pp[0]);
            TraceRequest req = new TraceRequest(from, to, port, proto, null, null, null);

            // (a) trace
            TraceResult traced = tracer.trace(req);
            // (b) the flat entries
            Tracer.ResolvedPeer src = tracer.resolve(from), dst = tracer.resolve(to);
            Outcome eg = entries(engine, src, Direction.EGRESS, dst.identity().id(), proto.number, port);
            Outcome in = entries(engine, dst, Direction.INGRESS, src.identity().id(), proto.number, port);
            String fromEntries = ReferenceEvaluator.combine(eg, in);
            // (c) the reference
            RefPeer rs = ref.peer(from), rd = ref.peer(to);
            Outcome reg = rs instanceof RefPeer.PodPeer p ? ref.decide(p.pod(), Direction.EGRESS, rd, proto.number, port) : Outcome.NONE;
            Outcome rin = rd instanceof RefPeer.PodPeer p ? ref.decide(p.pod(), Direction.INGRESS, rs, proto.number, port) : Outcome.NONE;
            String fromReference = ReferenceEvaluator.combine(reg, rin);

            String where = "seed " + seed + " (replay with -Dsieve.property.seed=" + seed + "), mode " + mode + ", connection " + c + ": "
                    + from + " -> " + to + " " + port + "/" + proto
                    + "\n  trace: " + traced.verdict() + " (" + traced.reason() + ")"
                    + "\n  entries: egress " + eg + ", ingress " + in + " => " + fromEntries
                    + "\n  reference: egress " + reg + ", ingress " + rin + " => " + fromReference
                    + "\n--- manifests ---\n" + yaml;
            assertThat(traced.verdict().name()).as("trace vs entries\n%s", where).isEqualTo(fromEntries);
            assertThat(fromReference).as("reference vs entries\n%s", where).isEqualTo(fromEntries);
        }
        return CONNECTIONS;
    }

    /** The datapath's decision from the flat entries alone. */
    static Outcome entries(PolicyEngine engine, Tracer.ResolvedPeer self, Direction d, int peer, int proto, int port) {
        if (self.endpoint() == null) return Outcome.NONE;
        EndpointPolicy pol = engine.policyOf(self.endpoint().key());
        boolean deny = false, allow = false, redirect = false;
        for (PolicyEntry e : pol.entries(d)) {
            if (!e.matches(peer, proto, port)) continue;
            if (e.action() == Action.DENY) deny = true;
            else if (e.action() == Action.ALLOW) allow = true;
            else if (e.action() == Action.REDIRECT) redirect = true;
        }
        Outcome o = deny ? Outcome.DROP : allow ? Outcome.PASS : redirect ? Outcome.REDIRECT : pol.enforced(d) ? Outcome.DROP : Outcome.PASS;
        return o == Outcome.DROP && pol.audit() ? Outcome.AUDIT : o;
    }
}
