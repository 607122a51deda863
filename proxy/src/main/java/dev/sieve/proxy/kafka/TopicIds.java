package dev.sieve.proxy.kafka;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.Uuid;

/**
 * Topic ID to name, learned from the Metadata responses the proxy relays (brokers' answers only, never the
 * clients' requests), so that requests naming topics by ID (Produce v13+, Fetch v13+, ...) can be judged by name.
 * Shared by every connection of one {@link KafkaProxyProtocol}: a client often learns IDs on its bootstrap
 * connection and uses them on another. Topic IDs are random UUIDs, unique across clusters. Bounded: the least
 * recently learned names are forgotten first (a forgotten ID is denied until the next Metadata response).
 */
public final class TopicIds {

    private final Map<Uuid, String> names;

    public TopicIds(int capacity) {
        this.names = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Uuid, String> eldest) {
                return size() > capacity;
            }
        };
    }

    public synchronized void learn(Uuid id, String name) {
        if (id == null || Uuid.ZERO_UUID.equals(id) || name == null || name.isEmpty()) return;
        names.put(id, name);
    }

    /** The topic's name, or null when no relayed Metadata response named it. */
    public synchronized String name(Uuid id) {
        return id == null ? null : names.get(id);
    }
}
