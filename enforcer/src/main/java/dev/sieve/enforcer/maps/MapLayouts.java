package dev.sieve.enforcer.maps;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.StructLayout;
import java.util.Map;

/**
 * Java mirrors of the structs in bpf/include/sieve_maps.h, member for member (same names; C
 * padding members are named too). DatapathLayoutTest checks them against the object's BTF.
 * Multi-byte members are host byte order except policy_key.dport (big endian).
 */
public final class MapLayouts {
    private MapLayouts() {}

    public static final StructLayout IPCACHE_KEY = structLayout(
            JAVA_INT.withName("prefixlen"),
            JAVA_INT.withName("family"),
            sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("ipcache_key");

    public static final StructLayout IPCACHE_VALUE = structLayout(
            JAVA_INT.withName("identity"),
            JAVA_INT.withName("flags")).withName("ipcache_value");

    public static final StructLayout POLICY_KEY = structLayout(
            JAVA_INT.withName("prefixlen"),
            JAVA_INT.withName("endpoint_id"),
            JAVA_INT.withName("identity"),
            JAVA_BYTE.withName("direction"),
            JAVA_BYTE.withName("protocol"),
            JAVA_SHORT.withName("dport")).withName("policy_key");

    public static final StructLayout POLICY_VALUE = structLayout(
            JAVA_INT.withName("rule_id"),
            JAVA_SHORT.withName("proxy_port"),
            JAVA_BYTE.withName("action"),
            JAVA_BYTE.withName("flags")).withName("policy_value");

    public static final StructLayout ENDPOINT_INFO = structLayout(
            JAVA_INT.withName("endpoint_id"),
            JAVA_INT.withName("identity"),
            JAVA_INT.withName("policy_revision"),
            JAVA_BYTE.withName("enforce_ingress"),
            JAVA_BYTE.withName("enforce_egress"),
            JAVA_BYTE.withName("audit"),
            JAVA_BYTE.withName("present"),
            JAVA_BYTE.withName("flags"),
            sequenceLayout(3, JAVA_BYTE).withName("pad"),
            sequenceLayout(4, JAVA_BYTE).withName("ipv4"),
            sequenceLayout(16, JAVA_BYTE).withName("ipv6")).withName("endpoint_info");

    public static final StructLayout LXC_KEY = structLayout(
            JAVA_INT.withName("family"),
            sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("lxc_key");

    public static final StructLayout LXC_INFO = structLayout(
            JAVA_INT.withName("ifindex"),
            sequenceLayout(6, JAVA_BYTE).withName("mac"),
            sequenceLayout(6, JAVA_BYTE).withName("node_mac")).withName("lxc_info");

    public static final StructLayout CT_KEY = structLayout(
            sequenceLayout(16, JAVA_BYTE).withName("saddr"),
            sequenceLayout(16, JAVA_BYTE).withName("daddr"),
            JAVA_SHORT.withName("sport"),
            JAVA_SHORT.withName("dport"),
            JAVA_INT.withName("endpoint_id"),
            JAVA_BYTE.withName("protocol"),
            JAVA_BYTE.withName("family"),
            JAVA_SHORT.withName("pad")).withName("ct_key");

    public static final StructLayout CT_VALUE = structLayout(
            JAVA_LONG.withName("last_seen_ns"),
            JAVA_LONG.withName("created_ns"),
            JAVA_INT.withName("rule_id"),
            JAVA_INT.withName("policy_revision"),
            JAVA_SHORT.withName("proxy_port"),
            JAVA_SHORT.withName("policy_port"),
            JAVA_BYTE.withName("action"),
            JAVA_BYTE.withName("direction"),
            JAVA_BYTE.withName("flags_fwd"),
            JAVA_BYTE.withName("flags_rev"),
            JAVA_BYTE.withName("seen_reply"),
            JAVA_BYTE.withName("closing"),
            JAVA_BYTE.withName("orig_swapped"),
            JAVA_BYTE.withName("flags"),
            JAVA_INT.withName("refreshed_jiffies")).withName("ct_value");

    public static final StructLayout METRICS_VALUE = structLayout(
            JAVA_LONG.withName("packets"),
            JAVA_LONG.withName("bytes")).withName("metrics_value");

    public static final StructLayout CONFIG_VALUE = structLayout(
            JAVA_INT.withName("aggregation"),
            JAVA_INT.withName("flags")).withName("config_value");

    public static final StructLayout VERDICT_EVENT = structLayout(
            JAVA_LONG.withName("timestamp_ns"),
            sequenceLayout(16, JAVA_BYTE).withName("src_addr"),
            sequenceLayout(16, JAVA_BYTE).withName("dst_addr"),
            JAVA_INT.withName("src_identity"),
            JAVA_INT.withName("dst_identity"),
            JAVA_INT.withName("rule_id"),
            JAVA_INT.withName("endpoint_id"),
            JAVA_INT.withName("ifindex"),
            JAVA_INT.withName("packet_len"),
            JAVA_SHORT.withName("src_port"),
            JAVA_SHORT.withName("dst_port"),
            JAVA_SHORT.withName("drop_reason"),
            JAVA_SHORT.withName("proxy_port"),
            JAVA_BYTE.withName("verdict"),
            JAVA_BYTE.withName("direction"),
            JAVA_BYTE.withName("family"),
            JAVA_BYTE.withName("protocol"),
            JAVA_BYTE.withName("tcp_flags"),
            JAVA_BYTE.withName("flags"),
            JAVA_BYTE.withName("icmp_type"),
            JAVA_BYTE.withName("icmp_code")).withName("verdict_event");

    /** Every mirrored struct by its C name. */
    public static final Map<String, StructLayout> ALL = Map.ofEntries(
            Map.entry("ipcache_key", IPCACHE_KEY),
            Map.entry("ipcache_value", IPCACHE_VALUE),
            Map.entry("policy_key", POLICY_KEY),
            Map.entry("policy_value", POLICY_VALUE),
            Map.entry("endpoint_info", ENDPOINT_INFO),
            Map.entry("lxc_key", LXC_KEY),
            Map.entry("lxc_info", LXC_INFO),
            Map.entry("ct_key", CT_KEY),
            Map.entry("ct_value", CT_VALUE),
            Map.entry("metrics_value", METRICS_VALUE),
            Map.entry("config_value", CONFIG_VALUE),
            Map.entry("verdict_event", VERDICT_EVENT));

    /** Offset of a member, for readers and writers. */
    public static long offset(StructLayout layout, String member) {
        return layout.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement(member));
    }
}
