package dev.sieve.relay.store.clickhouse;

import com.google.protobuf.CodedOutputStream;
import dev.sieve.api.flow.Flow;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The {@code flow} column: a flow's protobuf encoding without what other columns already hold
 * (time, uuid, verdict, drop reason, direction, node, IP addresses, each endpoint's namespace, pod
 * and identity; a policy's kind, namespace and name, which the policies column holds — the blob
 * keeps an empty Policy in its list as the place holder) and without endpoint labels, which are stored once per distinct set in
 * {@code label_sets} and referenced by a 64-bit id. Every byte a row sheds is one
 * ClickHouse does not have to receive, parse, compress and merge: this takes the bench flow's
 * blob from 421 to about 170 bytes.
 *
 * <p>Stripping works on the encoded bytes, so any field not named here (including fields added to
 * flow.proto later) is kept as it is. A message field that is stripped down to nothing stays as
 * an empty message, so that {@code hasSource()} and friends read back as they were written.
 */
final class FlowBlob {
  private FlowBlob() {}

  // Flow field numbers held in their own columns
  private static final int TIME = 1, VERDICT = 2, IP = 5, SOURCE = 8, DESTINATION = 9, NODE_NAME = 11,
      TRAFFIC_DIRECTION = 22, DROP_REASON_DESC = 25, UUID = 34;
  // policy lists, also held by the policies column as "allow:Kind/namespace/name" (FlowRow.policies)
  private static final int EGRESS_ALLOWED_BY = 21001, INGRESS_ALLOWED_BY = 21002, EGRESS_DENIED_BY = 21004, INGRESS_DENIED_BY = 21005;
  // Policy: name = 1, namespace = 2, kind = 5
  private static final int POLICY_NAME = 1, POLICY_NAMESPACE = 2, POLICY_KIND = 5;
  // IP: source = 1, destination = 2. Endpoint: identity = 2, namespace = 3, labels = 4, pod_name = 5.
  private static final int LABELS = 4;
  private static final long IP_STRIPPED = bits(1, 2);
  private static final long ENDPOINT_STRIPPED = bits(2, 3, 5);
  private static final long ENDPOINT_STRIPPED_WITH_LABELS = bits(2, 3, 4, 5);

  /** Per thread: the full encoding, and a stripped sub-message. */
  private static final ThreadLocal<byte[][]> SCRATCH = ThreadLocal.withInitial(() -> new byte[][] {new byte[4096], new byte[1024]});
  private static final ThreadLocal<WireReader> READER = ThreadLocal.withInitial(WireReader::new);
  private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static long bits(int... fields) {
    long b = 0;
    for (int f : fields) b |= 1L << f;
    return b;
  }

  /**
   * Writes the stripped encoding of {@code f} as a RowBinary String. Unless {@code keepLabels}, the
   * labels go too and {@code labelIds} receives the source's and the destination's label set id,
   * hashed from the label bytes as they are stripped.
   */
  static void write(RowBinary.Out o, Flow f, boolean keepLabels, long[] labelIds) {
    int size = f.getSerializedSize();
    byte[] in = scratch(size);
    try {
      CodedOutputStream cos = CodedOutputStream.newInstance(in, 0, size);
      f.writeTo(cos);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    writeEncoded(o, in, size, keepLabels, labelIds);
  }

  /** A per-thread buffer of at least {@code size} bytes for a flow's encoding. */
  static byte[] scratch(int size) {
    byte[][] s = SCRATCH.get();
    if (s[0].length < size) s[0] = new byte[Math.max(size, s[0].length * 2)];
    return s[0];
  }

  /** {@link #write} from the flow's encoding in {@code in[0, size)} (well-formed: already scanned or just written). */
  static void writeEncoded(RowBinary.Out o, byte[] in, int size, boolean keepLabels, long[] labelIds) {
    labelIds[0] = labelIds[1] = 0;
    // strip straight into the row, after room for the length; the stripped length is at most size,
    // so its varint is at most as long as size's and only rarely needs the bytes moved back
    int room = varintLength(size);
    o.ensure(room + size);
    int n = strip(READER.get(), in, size, o.buf, o.len + room, keepLabels ? ENDPOINT_STRIPPED : ENDPOINT_STRIPPED_WITH_LABELS, SCRATCH.get()[1], keepLabels ? null : labelIds);
    int lengthBytes = varintLength(n);
    if (lengthBytes < room) System.arraycopy(o.buf, o.len + room, o.buf, o.len + lengthBytes, n);
    o.varint(n);
    o.len += n;
  }

  private static int varintLength(int v) {
    int n = 1;
    while ((v & ~0x7F) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  /**
   * Copies the top-level fields of {@code in[0, len)} to {@code out} from {@code at}, minus the
   * column-held ones (message fields through {@code sub}); returns the length written.
   */
  private static int strip(WireReader w, byte[] in, int len, byte[] out, int at, long endpointStripped, byte[] sub, long[] labelIds) {
    int r = 0, o = at;
    while (r < len) {
      int start = r;
      int tag = (int) w.varint(in, r), field = tag >>> 3, type = tag & 7, payload = w.next;
      r = w.skip(in, payload, len, type);
      switch (field) {
        case TIME, VERDICT, NODE_NAME, TRAFFIC_DIRECTION, DROP_REASON_DESC, UUID -> { }
        case IP, SOURCE, DESTINATION -> {
          if (type != 2) { // not what flow.proto says: keep it untouched
            System.arraycopy(in, start, out, o, r - start);
            o += r - start;
            break;
          }
          int n = w.length(in, payload, len), body = w.next;
          if (sub.length < n) sub = SCRATCH.get()[1] = new byte[n * 2];
          int subLen = keep(w, in, body, body + n, sub, field == IP ? IP_STRIPPED : endpointStripped,
              field == IP ? null : labelIds, field == SOURCE ? 0 : 1);
          System.arraycopy(in, start, out, o, payload - start); // the tag
          o += payload - start;
          o = writeVarint(out, o, subLen);
          System.arraycopy(sub, 0, out, o, subLen);
          o += subLen;
        }
        case EGRESS_ALLOWED_BY, INGRESS_ALLOWED_BY, EGRESS_DENIED_BY, INGRESS_DENIED_BY -> {
          if (type == 2 && inPoliciesColumn(w, in, payload, len)) {
            // the tag and an empty body: which list and where in it stay here, the rest is in the column
            System.arraycopy(in, start, out, o, payload - start);
            o += payload - start;
            out[o++] = 0;
          } else {
            System.arraycopy(in, start, out, o, r - start);
            o += r - start;
          }
        }
        default -> {
          System.arraycopy(in, start, out, o, r - start);
          o += r - start;
        }
      }
    }
    return o - at;
  }

  /**
   * Whether the Policy whose length prefix is at {@code at} is exactly what its policies-column
   * value "effect:kind/namespace/name" gives back: nothing but name, namespace and kind, each at most
   * once, and no '/' in kind or namespace (the name is the rest of the value, so it may hold one).
   */
  private static boolean inPoliciesColumn(WireReader w, byte[] in, int at, int limit) {
    int n = w.length(in, at, limit), r = w.next, end = r + n;
    int seen = 0;
    while (r < end) {
      int tag = (int) w.varint(in, r), field = tag >>> 3, type = tag & 7;
      if (type != 2 || (field != POLICY_NAME && field != POLICY_NAMESPACE && field != POLICY_KIND) || (seen & (1 << field)) != 0) return false;
      seen |= 1 << field;
      int len = w.length(in, w.next, end), from = w.next;
      if (field != POLICY_NAME) for (int i = from; i < from + len; i++) if (in[i] == '/') return false;
      r = from + len;
    }
    return r == end;
  }

  /**
   * Fills the policies {@link #write} left empty from the row's policies column (FlowRow.policies
   * order: egress allowed, ingress allowed, egress denied, ingress denied). Rows written before
   * this kept whole policies in the blob, which are left as they are.
   */
  static void fillPolicies(Flow.Builder b, String[] column) {
    int j = fill(b.getEgressAllowedByCount(), b::getEgressAllowedBy, b::setEgressAllowedBy, column, 0);
    j = fill(b.getIngressAllowedByCount(), b::getIngressAllowedBy, b::setIngressAllowedBy, column, j);
    j = fill(b.getEgressDeniedByCount(), b::getEgressDeniedBy, b::setEgressDeniedBy, column, j);
    fill(b.getIngressDeniedByCount(), b::getIngressDeniedBy, b::setIngressDeniedBy, column, j);
  }

  /** Fills the empty policies of one list from {@code column[j...]}; returns the column index after the list. */
  private static int fill(int count, java.util.function.IntFunction<dev.sieve.api.flow.Policy> get, PolicySetter set,
      String[] column, int j) {
    for (int i = 0; i < count; i++, j++) {
      if (j < column.length && get.apply(i).getSerializedSize() == 0) set.set(i, policy(column[j]));
    }
    return j;
  }

  /** A Flow.Builder's setter of one policy list. */
  private interface PolicySetter {
    void set(int index, dev.sieve.api.flow.Policy policy);
  }

  /** The Policy of a policies-column value "effect:kind/namespace/name". */
  private static dev.sieve.api.flow.Policy policy(String value) {
    int colon = value.indexOf(':'), kindEnd = value.indexOf('/', colon + 1), nsEnd = kindEnd < 0 ? -1 : value.indexOf('/', kindEnd + 1);
    if (colon < 0 || nsEnd < 0) return dev.sieve.api.flow.Policy.getDefaultInstance();
    return dev.sieve.api.flow.Policy.newBuilder().setKind(value.substring(colon + 1, kindEnd))
        .setNamespace(value.substring(kindEnd + 1, nsEnd)).setName(value.substring(nsEnd + 1)).build();
  }

  /**
   * Copies the fields of {@code in[from, to)} whose numbers are not in {@code dropped} to {@code out};
   * with {@code ids}, hashes the labels into {@code ids[slot]}.
   */
  private static int keep(WireReader w, byte[] in, int from, int to, byte[] out, long dropped, long[] ids, int slot) {
    int r = from, o = 0, labels = 0;
    long h = SEED;
    while (r < to) {
      int start = r;
      int tag = (int) w.varint(in, r), field = tag >>> 3, type = tag & 7, payload = w.next;
      r = w.skip(in, payload, to, type);
      if (ids != null && field == LABELS && type == 2) {
        int n = w.length(in, payload, to);
        h = hashLabel(h, in, w.next, n);
        labels++;
      }
      if (field < 64 && (dropped & (1L << field)) != 0) continue;
      System.arraycopy(in, start, out, o, r - start);
      o += r - start;
    }
    if (ids != null) ids[slot] = labelSetId(h, labels);
    return o;
  }

  private static int writeVarint(byte[] out, int w, int v) {
    while ((v & ~0x7F) != 0) {
      out[w++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out[w++] = (byte) v;
    return w;
  }

  private static final long SEED = 0x9E3779B97F4A7C15L, K1 = 0xC2B2AE3D27D4EB4FL, K2 = 0x165667B19E3779F9L;

  /*
   * A label set's 64-bit id (0 for none): its labels' UTF-8 bytes in order, each preceded by its
   * length, hashed 8 bytes at a time as they are stripped, and mixed at the end. At a million
   * distinct sets the chance of any collision is about 3 in 100 million.
   */
  private static long labelSetId(long h, int count) {
    if (count == 0) return 0;
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
