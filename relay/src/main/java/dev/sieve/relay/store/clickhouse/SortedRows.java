package dev.sieve.relay.store.clickhouse;

import java.util.Arrays;
import java.util.List;

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
  /** Rows {@code from} to {@code to - 1} of a buffer; row i spans {@code offsets[i]} to {@code offsets[i + 1]}. */
  record Run(byte[] buf, int[] offsets, int from, int to) {}

  private static final int VERDICT = 8, SRC_NAMESPACE = 13;
  private static final int MAX_KEYS = 1 << 19;

  // Reused from one group to the next (one instance per writer thread): a group of 200k rows would
  // otherwise allocate ~80 MB here each second, and a key object per row.
  private byte[] out = new byte[0];
  private int[] keyOf = new int[0], runOf = new int[0], rowOf = new int[0];
  private long[] order = new long[0];
  /** Per distinct key: its hash, and the row it was first seen in (which run, which row). */
  private int[] keyHash = new int[64], keyRun = new int[64], keyRow = new int[64];
  private int keys;
  /** Open addressing: key id + 1 per slot, 0 = empty. */
  private int[] slots = new int[256];

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
    if (keyOf.length < rows) {
      int n = Math.max(rows, keyOf.length + keyOf.length / 4);
      keyOf = new int[n];
      runOf = new int[n];
      rowOf = new int[n];
      order = new long[n];
    }
    keys = 0;
    Arrays.fill(slots, 0);
    int n = 0;
    for (int ri = 0; ri < runs.size(); ri++) {
      Run r = runs.get(ri);
      for (int i = r.from(); i < r.to(); i++, n++) {
        int id = keyId(runs, ri, i);
        if (id < 0) return concat(runs, out); // not expected: a group of flows between few endpoints
        keyOf[n] = id;
        runOf[n] = ri;
        rowOf[n] = i;
      }
    }
    Key[] distinct = new Key[keys];
    for (int k = 0; k < keys; k++) distinct[k] = Key.of(runs.get(keyRun[k]).buf(), runs.get(keyRun[k]).offsets()[keyRow[k]]);
    Integer[] byKey = new Integer[keys];
    for (int i = 0; i < byKey.length; i++) byKey[i] = i;
    Arrays.sort(byKey, (a, b) -> distinct[a].compareTo(distinct[b]));
    int[] rank = new int[keys];
    for (int i = 0; i < byKey.length; i++) rank[byKey[i]] = i;
    // rank (19 bits) | second within the hour (12 bits) | row (32 bits): one primitive sort
    for (int i = 0; i < rows; i++) {
      Run r = runs.get(runOf[i]);
      long time = u32(r.buf(), r.offsets()[rowOf[i]]);
      order[i] = (long) rank[keyOf[i]] << 44 | (time % 3600) << 32 | i;
    }
    Arrays.sort(order, 0, rows);
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

  /**
   * The id of row {@code i} of run {@code ri}'s (hour, verdict, namespaces, pods) key, compared on the
   * encoded bytes in place (a String's length prefix and bytes are equal exactly when the values
   * are); -1 past MAX_KEYS.
   */
  private int keyId(List<Run> runs, int ri, int i) {
    Run r = runs.get(ri);
    byte[] b = r.buf();
    int row = r.offsets()[i];
    int h = hash(b, row);
    int mask = slots.length - 1;
    for (int s = h & mask; ; s = (s + 1) & mask) {
      int k = slots[s] - 1;
      if (k < 0) {
        if (keys == MAX_KEYS) return -1;
        if (keys == keyHash.length) {
          keyHash = Arrays.copyOf(keyHash, keys * 2);
          keyRun = Arrays.copyOf(keyRun, keys * 2);
          keyRow = Arrays.copyOf(keyRow, keys * 2);
        }
        keyHash[keys] = h;
        keyRun[keys] = ri;
        keyRow[keys] = i;
        slots[s] = ++keys;
        if (keys * 2 > slots.length) rehash();
        return keys - 1;
      }
      if (keyHash[k] == h) {
        Run kr = runs.get(keyRun[k]);
        if (sameKey(b, row, kr.buf(), kr.offsets()[keyRow[k]])) return k;
      }
    }
  }

  private void rehash() {
    slots = new int[slots.length * 2];
    int mask = slots.length - 1;
    for (int k = 0; k < keys; k++) {
      int s = keyHash[k] & mask;
      while (slots[s] != 0) s = (s + 1) & mask;
      slots[s] = k + 1;
    }
  }

  /** Hash of a row's key: hour, verdict, and the bytes of src_namespace, src_pod and of dst_namespace, dst_pod. */
  private static int hash(byte[] b, int row) {
    long time = u32(b, row);
    int h = Long.hashCode(time - time % 3600) * 31 + (b[row + VERDICT] & 0xFF);
    int s1 = row + SRC_NAMESPACE, e1 = skipStr(b, skipStr(b, s1));
    int s2 = skipStr(b, e1) + 4, e2 = skipStr(b, skipStr(b, s2)); // past src_workload and src_identity
    for (int i = s1; i < e1; i++) h = h * 31 + b[i];
    for (int i = s2; i < e2; i++) h = h * 31 + b[i];
    return h ^ (h >>> 16);
  }

  private static boolean sameKey(byte[] a, int ra, byte[] b, int rb) {
    long ta = u32(a, ra), tb = u32(b, rb);
    if (ta - ta % 3600 != tb - tb % 3600 || a[ra + VERDICT] != b[rb + VERDICT]) return false;
    int sa = ra + SRC_NAMESPACE, ea = skipStr(a, skipStr(a, sa));
    int sb = rb + SRC_NAMESPACE, eb = skipStr(b, skipStr(b, sb));
    if (!Arrays.equals(a, sa, ea, b, sb, eb)) return false;
    sa = skipStr(a, ea) + 4;
    sb = skipStr(b, eb) + 4;
    return Arrays.equals(a, sa, skipStr(a, skipStr(a, sa)), b, sb, skipStr(b, skipStr(b, sb)));
  }

  /** Where the String value starting at {@code at} ends. */
  private static int skipStr(byte[] b, int at) {
    int v = 0;
    for (int shift = 0; ; shift += 7) {
      byte x = b[at++];
      v |= (x & 0x7F) << shift;
      if (x >= 0) return at + v;
    }
  }

  private static int concat(List<Run> runs, byte[] out) {
    int w = 0;
    for (Run r : runs) {
      int from = r.offsets()[r.from()], len = r.offsets()[r.to()] - from;
      System.arraycopy(r.buf(), from, out, w, len);
      w += len;
    }
    return w;
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
