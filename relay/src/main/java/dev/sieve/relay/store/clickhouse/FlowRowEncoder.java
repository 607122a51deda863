package dev.sieve.relay.store.clickhouse;

import dev.sieve.api.flow.Flow;
import dev.sieve.relay.store.FlowColumns;
import dev.sieve.relay.store.FlowStore.StreamKey;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A flows row in RowBinary from a flow's {@link FlowColumns}: column order {@link Schema#flowColumns}
 * of the table's schema version — {@link Schema#FLOW_COLUMNS_V1} with the labels left in the flow
 * column before migration 4, the L7 columns from migration 6, the Kafka columns from migration 8.
 *
 * <p><b>Row size is the cost</b>: ClickHouse receives, parses, compresses and merges every byte, so
 * the {@code flow} column holds the flow without what other columns hold ({@link FlowColumns#writeBlob})
 * and without the endpoint labels, which are stored once per distinct set in {@code label_sets} and
 * referenced by a 64-bit id (hashed from the labels' bytes).
 */
final class FlowRowEncoder {
    private FlowRowEncoder() {}

    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Writes the row of {@code c} for schema {@code version}; with label columns, {@code labelIds} receives the source's and destination's label set ids. */
    static void encode(RowBinary.Out o, FlowColumns c, StreamKey key, long batchSeq, long flowSeq, int version, long[] labelIds) {
        boolean labelColumns = version >= Schema.LABEL_SETS_VERSION;
        long t = c.timeNanos();
        o.u32(Math.floorDiv(t, 1_000_000_000L));
        o.u32(Math.floorMod(t, 1_000_000_000L));
        o.u8(c.verdict());
        o.u16(c.dropReason());
        o.u8(c.direction());
        o.u8(c.protocol());
        str(o, c, FlowColumns.SRC_NAMESPACE);
        str(o, c, FlowColumns.SRC_POD);
        str(o, c, FlowColumns.SRC_WORKLOAD);
        o.u32(Integer.toUnsignedLong(c.srcIdentity()));
        str(o, c, FlowColumns.DST_NAMESPACE);
        str(o, c, FlowColumns.DST_POD);
        str(o, c, FlowColumns.DST_WORKLOAD);
        o.u32(Integer.toUnsignedLong(c.dstIdentity()));
        str(o, c, FlowColumns.SRC_IP);
        str(o, c, FlowColumns.DST_IP);
        o.u16(c.srcPort());
        o.u16(c.dstPort());
        str(o, c, FlowColumns.NODE_NAME);
        o.str(key.epoch());
        o.u64(batchSeq);
        o.u64(flowSeq);
        str(o, c, FlowColumns.UUID);
        o.varint(c.policyCount());
        for (int i = 0; i < c.policyCount(); i++) {
            int n = c.policyValueLength(i);
            o.varint(n);
            o.ensure(n);
            o.len = c.policyValue(i, o.buf, o.len);
        }
        o.ensure(c.blobBound());
        o.len = c.writeBlob(o.buf, o.len, !labelColumns);
        if (labelColumns) {
            labelIds[0] = labelSetId(c, true);
            labelIds[1] = labelSetId(c, false);
            o.u64(labelIds[0]);
            o.u64(labelIds[1]);
        } else {
            labelIds[0] = labelIds[1] = 0;
        }
        if (version >= Schema.L7_COLUMNS_VERSION) l7(o, c);
        if (version >= Schema.KAFKA_COLUMNS_VERSION) {
            str(o, c, FlowColumns.KAFKA_API_KEY);
            str(o, c, FlowColumns.KAFKA_TOPIC);
            o.u32(Integer.toUnsignedLong(c.kafkaErrorCode())); // Int32: the same four bytes
        }
    }

    /** {@link Schema#L7_COLUMNS}; the uint32 codes beyond UInt16 are clamped (DNS rcodes end at 4095, HTTP's at 999). */
    private static void l7(RowBinary.Out o, FlowColumns c) {
        o.u8(c.l7Record());
        o.u8(Math.clamp(Integer.toUnsignedLong(c.l7Type()), 0, 255));
        o.u64(c.l7LatencyNs());
        str(o, c, FlowColumns.DNS_QUERY);
        o.u16(Math.clamp(Integer.toUnsignedLong(c.dnsRcode()), 0, 65535));
        list(o, c, FlowColumns.DNS_QTYPES);
        list(o, c, FlowColumns.DNS_IPS);
        str(o, c, FlowColumns.HTTP_METHOD);
        o.u16(Math.clamp(Integer.toUnsignedLong(c.httpStatus()), 0, 65535));
        str(o, c, FlowColumns.HTTP_URL);
    }

    private static void list(RowBinary.Out o, FlowColumns c, int list) {
        int n = c.listCount(list);
        o.varint(n);
        for (int i = 0; i < n; i++) o.str(c.bytes(), c.listOffset(list, i), c.listLength(list, i));
    }

    private static void str(RowBinary.Out o, FlowColumns c, int slot) {
        o.str(c.bytes(), c.offset(slot), c.length(slot));
    }

    /** The row of one flow for the newest schema ({@code labelColumns}) or the first (tests). */
    static byte[] row(Flow f, boolean labelColumns) {
        return row(f, labelColumns ? Schema.LATEST_VERSION : 1);
    }

    /** The row of one flow for schema {@code version} (tests). */
    static byte[] row(Flow f, int version) {
        RowBinary.Out o = new RowBinary.Out(512);
        encode(o, new FlowColumns().read(f), new StreamKey("n", "e"), 7, 42, version, new long[2]);
        return Arrays.copyOf(o.buf, o.len);
    }

    /** {@code label_sets} rows for new sets. */
    static RowBinary.Out labelSetRows(Map<Long, List<String>> sets) {
        RowBinary.Out o = new RowBinary.Out(4096);
        sets.forEach((id, labels) -> {
            o.u64(id);
            o.varint(labels.size());
            for (String l : labels) o.str(l);
        });
        return o;
    }

    private static final long SEED = 0x9E3779B97F4A7C15L, K1 = 0xC2B2AE3D27D4EB4FL, K2 = 0x165667B19E3779F9L;

    /*
     * A label set's 64-bit id (0 for none): its labels' UTF-8 bytes in order, each preceded by its
     * length, hashed 8 bytes at a time, and mixed at the end. At a million distinct sets the chance of
     * any collision is about 3 in 100 million.
     */
    static long labelSetId(FlowColumns c, boolean source) {
        int count = c.labelCount(source);
        if (count == 0) return 0;
        long h = SEED;
        byte[] b = c.bytes();
        for (int k = 0; k < count; k++) h = hashLabel(h, b, c.labelOffset(source, k), c.labelLength(source, k));
        long id = mix(h ^ count);
        return id == 0 ? 1 : id;
    }

    private static long hashLabel(long h, byte[] b, int off, int len) {
        h = step(h, len);
        int i = 0;
        for (; i + 8 <= len; i += 8) h = step(h, (long) LONG_LE.get(b, off + i));
        if (i < len) {
            long tail = 0;
            for (int k = len - 1; k >= i; k--) tail = tail << 8 | (b[off + k] & 0xFF);
            h = step(h, tail);
        }
        return h;
    }

    private static long step(long h, long v) {
        return Long.rotateLeft(h ^ (v * K1), 31) * K2;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
