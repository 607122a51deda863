package dev.sieve.agent;

import dev.sieve.api.flow.Flow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Reading a running agent's flow buffer in end-to-end tests. */
final class NodeFlows {

    private NodeFlows() {}

    /**
     * The agent's buffered flows that match, as soon as there is one (events reach the buffer a few ms after the
     * packets), or none after 5 s.
     */
    static List<Flow> await(Agent agent, Predicate<Flow> p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<Flow> out = matching(agent, p);
        while (out.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            out = matching(agent, p);
        }
        return out;
    }

    static List<Flow> matching(Agent agent, Predicate<Flow> p) {
        List<Flow> out = new ArrayList<>();
        for (long q = agent.ring().oldestSeq(); q < agent.ring().nextSeq(); q++) {
            var e = agent.ring().get(q);
            if (e != null && p.test(e.flow())) out.add(e.flow());
        }
        return out;
    }
}
