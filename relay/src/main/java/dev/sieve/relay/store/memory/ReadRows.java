package dev.sieve.relay.store.memory;

import dev.sieve.relay.store.EncodedBatch;
import dev.sieve.relay.store.FlowColumns;
import java.util.Arrays;

/**
 * A run of a batch's flows read and checked ({@link EncodedBatch#columns}), before any dictionary:
 * each flow's bytes as stored, its scalar columns, and where its string columns lie in those bytes.
 * What needs no shared state, so two runs of one batch can be read on two threads; the store then
 * turns the spans into dictionary ids under its lock. Reused from one batch to the next.
 */
final class ReadRows {
    /** Spans per row, as (offset from the row's first byte, length) pairs. */
    static final int SRC_ENDPOINT = 0, DST_ENDPOINT = 2, SRC_IP = 4, DST_IP = 6, NODE = 8, SPANS = 10;

    /** Reads the flows' columns; no blob plan (this store keeps the bytes as received). */
    final FlowColumns reader = new FlowColumns(false);
    int rows;
    long[] time = new long[1024];
    /** verdict, direction, protocol, drop reason, source port, destination port, source identity, destination identity. */
    int[][] ints = new int[8][1024];
    int[] spans = new int[SPANS * 1024];
    /** Row i's bytes are {@code bytes[bytesAt[i], bytesAt[i + 1])}. */
    int[] bytesAt = new int[1025];
    byte[] bytes = new byte[1 << 20];
    /** Row i's policies-column key (values joined by '\n') is {@code policyKeys[policyAt[i], policyAt[i + 1])}. */
    int[] policyAt = new int[1025];
    byte[] policyKeys = new byte[1 << 16];

    /** Reads flows {@code from} to {@code to} of {@code batch}; throws as {@link EncodedBatch#columns} does. */
    ReadRows read(EncodedBatch batch, int from, int to) {
        rows = 0;
        for (int i = from; i < to; i++) add(batch.columns(i, reader, true));
        return this;
    }

    private void add(FlowColumns c) {
        int i = rows++;
        if (i == time.length) {
            time = Arrays.copyOf(time, 2 * i);
            for (int k = 0; k < ints.length; k++) ints[k] = Arrays.copyOf(ints[k], 2 * i);
            spans = Arrays.copyOf(spans, SPANS * 2 * i);
            bytesAt = Arrays.copyOf(bytesAt, 2 * i + 1);
            policyAt = Arrays.copyOf(policyAt, 2 * i + 1);
        }
        time[i] = c.timeNanos();
        ints[0][i] = c.verdict();
        ints[1][i] = c.direction();
        ints[2][i] = c.protocol();
        ints[3][i] = c.dropReason();
        ints[4][i] = c.srcPort();
        ints[5][i] = c.dstPort();
        ints[6][i] = c.srcIdentity();
        ints[7][i] = c.dstIdentity();
        int s = SPANS * i;
        spans[s + SRC_ENDPOINT] = c.endpointOffset(true);
        spans[s + SRC_ENDPOINT + 1] = c.endpointLength(true);
        spans[s + DST_ENDPOINT] = c.endpointOffset(false);
        spans[s + DST_ENDPOINT + 1] = c.endpointLength(false);
        spans[s + SRC_IP] = c.offset(FlowColumns.SRC_IP);
        spans[s + SRC_IP + 1] = c.length(FlowColumns.SRC_IP);
        spans[s + DST_IP] = c.offset(FlowColumns.DST_IP);
        spans[s + DST_IP + 1] = c.length(FlowColumns.DST_IP);
        spans[s + NODE] = c.offset(FlowColumns.NODE_NAME);
        spans[s + NODE + 1] = c.length(FlowColumns.NODE_NAME);
        // the flow as it arrived (a flow only a parser could read holds its canonical encoding)
        int at = bytesAt[i], n = c.length();
        if (bytes.length < at + n) bytes = Arrays.copyOf(bytes, Math.max(2 * bytes.length, at + n));
        System.arraycopy(c.bytes(), 0, bytes, at, n);
        bytesAt[i + 1] = at + n;
        int p = policyAt[i];
        for (int k = 0; k < c.policyCount(); k++) {
            int need = p + c.policyValueLength(k) + 1;
            if (policyKeys.length < need) policyKeys = Arrays.copyOf(policyKeys, Math.max(need, 2 * policyKeys.length));
            if (k > 0) policyKeys[p++] = '\n';
            p = c.policyValue(k, policyKeys, p);
        }
        policyAt[i + 1] = p;
    }
}
