package dev.sieve.relay.store.clickhouse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts the rows of one INSERT in the flows table's ORDER BY order — (toStartOfHour(time), verdict,
 * src_namespace, src_pod, dst_namespace, dst_pod, time) — so ClickHouse finds the block already
 * sorted and neither sorts nor permutes it. Sorting strings was about a fifth of ClickHouse's work
 * per insert; here it is a sort of the few distinct (hour, verdict, namespaces, pods) keys of a group
 * and a sort of one long per row.
 *
 * <p>Works on encoded rows ({@link Schema#FLOW_COLUMNS} or {@link Schema#FLOW_COLUMNS_V1}: both
 * start time u32, nanos u32, verdict u8, drop_reason u16, direction u8, protocol u8, src_namespace,
 * src_pod, src_workload, src_identity u32, dst_namespace, dst_pod).
 */
final class SortedRows {
  private SortedRows() {}

  /** Rows {@code from} to {@code to - 1} of a buffer; row i spans {@code offsets[i]} to {@code offsets[i + 1]}. */
  record Run(byte[] buf, int[] offsets, int from, int to) {}

  private static final int VERDICT = 8, SRC_NAMESPACE = 13;
  private static final int MAX_KEYS = 1 << 19;

  /** The rows of {@code runs} in ORDER BY order, as one buffer. */
  static byte[] sort(List<Run> runs) {
    int rows = 0, bytes = 0;
    for (Run r : runs) {
      rows += r.to() - r.from();
      bytes += r.offsets()[r.to()] - r.offsets()[r.from()];
    }
    Map<Key, Integer> ids = new HashMap<>();
    List<Key> keys = new ArrayList<>();
    int[] keyOf = new int[rows], runOf = new int[rows], rowOf = new int[rows];
    long[] order = new long[rows];
    int n = 0;
    for (int ri = 0; ri < runs.size(); ri++) {
      Run r = runs.get(ri);
      for (int i = r.from(); i < r.to(); i++, n++) {
        Key k = Key.of(r.buf(), r.offsets()[i]);
        Integer id = ids.get(k);
        if (id == null) {
          id = keys.size();
          ids.put(k, id);
          keys.add(k);
        }
        keyOf[n] = id;
        runOf[n] = ri;
        rowOf[n] = i;
      }
    }
    byte[] out = new byte[bytes];
    if (keys.size() > MAX_KEYS) return concat(runs, out); // not expected: a group of flows between few endpoints
    Integer[] byKey = new Integer[keys.size()];
    for (int i = 0; i < byKey.length; i++) byKey[i] = i;
    Arrays.sort(byKey, (a, b) -> keys.get(a).compareTo(keys.get(b)));
    int[] rank = new int[keys.size()];
    for (int i = 0; i < byKey.length; i++) rank[byKey[i]] = i;
    // rank (19 bits) | second within the hour (12 bits) | row (32 bits): one primitive sort
    for (int i = 0; i < rows; i++) {
      Run r = runs.get(runOf[i]);
      long time = u32(r.buf(), r.offsets()[rowOf[i]]);
      order[i] = (long) rank[keyOf[i]] << 44 | (time % 3600) << 32 | i;
    }
    Arrays.sort(order);
    int w = 0;
    for (long o : order) {
      int i = (int) o;
      Run r = runs.get(runOf[i]);
      int from = r.offsets()[rowOf[i]], len = r.offsets()[rowOf[i] + 1] - from;
      System.arraycopy(r.buf(), from, out, w, len);
      w += len;
    }
    return out;
  }

  private static byte[] concat(List<Run> runs, byte[] out) {
    int w = 0;
    for (Run r : runs) {
      int from = r.offsets()[r.from()], len = r.offsets()[r.to()] - from;
      System.arraycopy(r.buf(), from, out, w, len);
      w += len;
    }
    return out;
  }

  private static long u32(byte[] b, int at) {
    return (b[at] & 0xFFL) | (b[at + 1] & 0xFFL) << 8 | (b[at + 2] & 0xFFL) << 16 | (b[at + 3] & 0xFFL) << 24;
  }

  /** (hour, verdict, src_namespace, src_pod, dst_namespace, dst_pod) of a row, as bytes. */
  private record Key(long hour, int verdict, byte[] srcNamespace, byte[] srcPod, byte[] dstNamespace, byte[] dstPod) implements Comparable<Key> {
    static Key of(byte[] b, int row) {
      long time = u32(b, row);
      int[] at = {row + SRC_NAMESPACE};
      byte[] srcNs = str(b, at), srcPod = str(b, at);
      skipStr(b, at); // src_workload
      at[0] += 4; // src_identity
      byte[] dstNs = str(b, at), dstPod = str(b, at);
      return new Key(time - time % 3600, b[row + VERDICT] & 0xFF, srcNs, srcPod, dstNs, dstPod);
    }

    private static int len(byte[] b, int[] at) {
      int v = 0;
      for (int shift = 0; ; shift += 7) {
        byte x = b[at[0]++];
        v |= (x & 0x7F) << shift;
        if (x >= 0) return v;
      }
    }

    private static byte[] str(byte[] b, int[] at) {
      int n = len(b, at);
      byte[] s = Arrays.copyOfRange(b, at[0], at[0] + n);
      at[0] += n;
      return s;
    }

    private static void skipStr(byte[] b, int[] at) {
      int n = len(b, at);
      at[0] += n;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && hour == k.hour && verdict == k.verdict && Arrays.equals(srcNamespace, k.srcNamespace)
          && Arrays.equals(srcPod, k.srcPod) && Arrays.equals(dstNamespace, k.dstNamespace) && Arrays.equals(dstPod, k.dstPod);
    }

    @Override
    public int hashCode() {
      int h = Long.hashCode(hour) * 31 + verdict;
      h = h * 31 + Arrays.hashCode(srcNamespace);
      h = h * 31 + Arrays.hashCode(srcPod);
      h = h * 31 + Arrays.hashCode(dstNamespace);
      return h * 31 + Arrays.hashCode(dstPod);
    }

    /** As ClickHouse compares: numbers, then strings byte by byte (unsigned), a prefix first. */
    @Override
    public int compareTo(Key o) {
      int c = Long.compare(hour, o.hour);
      if (c == 0) c = Integer.compare(verdict, o.verdict);
      if (c == 0) c = Arrays.compareUnsigned(srcNamespace, o.srcNamespace);
      if (c == 0) c = Arrays.compareUnsigned(srcPod, o.srcPod);
      if (c == 0) c = Arrays.compareUnsigned(dstNamespace, o.dstNamespace);
      if (c == 0) c = Arrays.compareUnsigned(dstPod, o.dstPod);
      return c;
    }
  }
}
