package dev.sieve.policy.l7;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Kafka API keys by Cilium's names and Kafka's numbers, and the roles that expand to sets of keys. */
public final class KafkaApiKeys {

    private static final List<String> NAMES = List.of(
            "produce", "fetch", "offsets", "metadata", "leaderandisr", "stopreplica", "updatemetadata",
            "controlledshutdown", "offsetcommit", "offsetfetch", "findcoordinator", "joingroup", "heartbeat",
            "leavegroup", "syncgroup", "describegroups", "listgroups", "saslhandshake", "apiversions",
            "createtopics", "deletetopics", "deleterecords", "initproducerid", "offsetforleaderepoch",
            "addpartitionstotxn", "addoffsetstotxn", "endtxn", "writetxnmarkers", "txnoffsetcommit",
            "describeacls", "createacls", "deleteacls", "describeconfigs", "alterconfigs");

    /** Keys a producer needs (role: produce). */
    public static final Set<Integer> PRODUCE_ROLE = Set.of(0, 3, 18);
    /**
     * Keys a consumer needs (role: consume): Cilium's set plus OffsetForLeaderEpoch (23), with which every consumer
     * since Kafka 2.1 (KIP-320) validates a committed position before it fetches; without it a group member that
     * restarts is refused. Like ListOffsets, it only reads the topic's offsets.
     */
    public static final Set<Integer> CONSUME_ROLE = Set.of(1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 23);
    /** Requests of these keys name topics; the others pass a topic constraint untouched. */
    public static final Set<Integer> TOPIC_KEYS = Set.of(0, 1, 2, 3, 4, 5, 6, 8, 9, 19, 20, 21, 23, 24, 28);

    private KafkaApiKeys() {}

    /** The number of an API key given by name ("produce") or number ("0"), or -1. */
    public static int parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        if (k.matches("\\d{1,5}")) {
            int n = Integer.parseInt(k);
            return n < NAMES.size() ? n : -1;
        }
        return NAMES.indexOf(k);
    }

    public static String name(int key) {
        return key >= 0 && key < NAMES.size() ? NAMES.get(key) : String.valueOf(key);
    }
}
