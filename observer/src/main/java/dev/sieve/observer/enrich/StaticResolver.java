package dev.sieve.observer.enrich;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A map-backed {@link EndpointResolver}: identities, pods and rules are registered by hand. Used by tests,
 * benchmarks and replays; thread-safe for registration before use.
 */
public final class StaticResolver implements EndpointResolver {

    private final Map<Integer, List<String>> identities = new HashMap<>();
    private final Map<String, PodRef> pods = new HashMap<>();
    private final Map<Integer, PolicyRef> rules = new HashMap<>();
    private final Map<String, Integer> addressIdentities = new HashMap<>();
    private final AtomicLong generation = new AtomicLong();

    public synchronized StaticResolver identity(int id, String... labels) {
        identities.put(id, List.of(labels));
        generation.incrementAndGet();
        return this;
    }

    public synchronized StaticResolver pod(String ip, String namespace, String name, Workload... workloads) {
        pods.put(normalise(ip), new PodRef(namespace, name, List.of(workloads)));
        generation.incrementAndGet();
        return this;
    }

    /** The identity the ipcache gives {@code ip} (for flows whose source has no identity of its own: L7). */
    public synchronized StaticResolver addressIdentity(String ip, int id) {
        addressIdentities.put(normalise(ip), id);
        generation.incrementAndGet();
        return this;
    }

    @Override
    public synchronized int identityOf(byte[] address) {
        try {
            return addressIdentities.getOrDefault(InetAddress.getByAddress(address).getHostAddress(), 0);
        } catch (UnknownHostException e) {
            return 0;
        }
    }

    public synchronized StaticResolver rule(int id, PolicyRef policy) {
        rules.put(id, policy);
        generation.incrementAndGet();
        return this;
    }

    @Override
    public synchronized List<String> identityLabels(int id) {
        return identities.getOrDefault(id, List.of());
    }

    @Override
    public synchronized PodRef podByAddress(byte[] address) {
        try {
            return pods.get(InetAddress.getByAddress(address).getHostAddress());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    @Override
    public synchronized PolicyRef rule(int ruleId) {
        return rules.get(ruleId);
    }

    @Override
    public long generation() {
        return generation.get();
    }

    private static String normalise(String ip) {
        try {
            return InetAddress.getByName(ip).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + ip);
        }
    }
}
