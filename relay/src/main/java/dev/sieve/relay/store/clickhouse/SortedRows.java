package dev.sieve.relay.store.clickhouse;

import java.util.Arrays;
import java.util.List;

/**
 * Puts the rows of one INSERT in the flows table's ORDER BY order — (time, nanos) from migration 7
 * ({@link Schema#TIME_KEY_VERSION}) on — so ClickHouse finds the block already sorted and neither
 * sorts nor permutes it. Rows of equal time keep their order. An older table (key starting with the
 * hour and the verdict) gets the same order and sorts the block itself.
 *
 * <p>Works on encoded rows ({@link Schema#FLOW_COLUMNS} or {@link Schema#FLOW_COLUMNS_V1}: both
 * start time u32, nanos u32). One sort of one long per row: (second − the group's first) | nanos |
 * row, when the group's span and size fit in 64 bits (a group of 500,000 rows over up to an hour
 * and more); otherwise a sort of row indexes by comparison.
 */
final class SortedRows {
    /** Rows {@code from} to {@code to - 1} of a buffer; row i spans {@code offsets[i]} to {@code offsets[i + 1]}. */
    record Run(byte[] buf, int[] offsets, int from, int to) {}

    private static final int NANO_BITS = 30; // nanos < 10^9 < 2^30

    // Reused from one group to the next (one instance per writer thread): a group of 200k rows would
    // otherwise allocate ~80 MB here each second.
    private byte[] out = new byte[0];
    private int[] runOf = new int[0], rowOf = new int[0];
    private long[] order = new long[0];

    /** The rows of {@code runs} in ORDER BY order, as a new buffer (tests). */
    static byte[] sort(List<Run> runs) {
        SortedRows s = new SortedRows();
        int n = s.sortInto(runs);
        return Arrays.copyOf(s.out, n);
    }

    /** Lets go of the output buffer: the next {@link #sortInto} writes into a new one. */
    void dropOutput() {
        out = new byte[0];
    }

    /** The buffer {@link #sortInto} wrote; valid until the next call. */
    byte[] out() {
        return out;
    }

    /** Writes the rows of {@code runs} in ORDER BY order to {@link #out()}; returns their length in bytes. */
    int sortInto(List<Run> runs) {
        int rows = 0, bytes = 0;
        for (Run r : runs) {
            rows += r.to() - r.from();
            bytes += r.offsets()[r.to()] - r.offsets()[r.from()];
        }
        if (out.length < bytes) out = new byte[Math.max(bytes, out.length + out.length / 4)];
        if (order.length < rows) {
            int n = Math.max(rows, order.length + order.length / 4);
            runOf = new int[n];
            rowOf = new int[n];
            order = new long[n];
        }
        long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
        int n = 0;
        for (int ri = 0; ri < runs.size(); ri++) {
            Run r = runs.get(ri);
            for (int i = r.from(); i < r.to(); i++, n++) {
                runOf[n] = ri;
                rowOf[n] = i;
                long t = u32(r.buf(), r.offsets()[i]);
                min = Math.min(min, t);
                max = Math.max(max, t);
            }
        }
        if (rows == 0) return 0;
        int rowBits = 64 - Long.numberOfLeadingZeros(Math.max(1, rows - 1)), spanBits = 64 - Long.numberOfLeadingZeros(max - min);
        if (rowBits + NANO_BITS + spanBits <= 63) {
            for (int i = 0; i < rows; i++) {
                Run r = runs.get(runOf[i]);
                int at = r.offsets()[rowOf[i]];
                order[i] = ((u32(r.buf(), at) - min) << NANO_BITS | u32(r.buf(), at + 4)) << rowBits | i;
            }
            Arrays.sort(order, 0, rows);
            long mask = (1L << rowBits) - 1;
            for (int j = 0; j < rows; j++) order[j] &= mask;
        } else {
            Integer[] idx = new Integer[rows];
            for (int i = 0; i < rows; i++) idx[i] = i;
            Arrays.sort(idx, (a, b) -> {
                Run ra = runs.get(runOf[a]), rb = runs.get(runOf[b]);
                int pa = ra.offsets()[rowOf[a]], pb = rb.offsets()[rowOf[b]];
                int c = Long.compare(u32(ra.buf(), pa), u32(rb.buf(), pb));
                return c != 0 ? c : Long.compare(u32(ra.buf(), pa + 4), u32(rb.buf(), pb + 4));
            });
            for (int j = 0; j < rows; j++) order[j] = idx[j];
        }
        int w = 0;
        for (int j = 0; j < rows; j++) {
            int i = (int) order[j];
            Run r = runs.get(runOf[i]);
            int from = r.offsets()[rowOf[i]], len = r.offsets()[rowOf[i] + 1] - from;
            System.arraycopy(r.buf(), from, out, w, len);
            w += len;
        }
        return w;
    }

    private static long u32(byte[] b, int at) {
        return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
    }
}
