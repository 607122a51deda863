package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.query.FlowRow;
import dev.sieve.relay.store.FlowStore.StreamKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A flows row straight from a flow's protobuf encoding, without parsing it into objects: one scan
 * finds the column values (strings are copied as the bytes they arrived as), then the row is
 * written exactly as {@link ClickHouseFlowStore#encode} writes it from the parsed flow.
 *
 * <p>The scan handles what protobuf-java writes. Anything else — a message field that occurs twice
 * (a parser would merge the occurrences), an unexpected wire type for a known field, a non-ASCII
 * string the row copies (a parser would check its UTF-8), a truncated field — makes {@link #encode}
 * write nothing and return false; the caller then encodes the parsed flow.
 */
final class EncodedRow {
  private EncodedRow() {}

  // Flow fields
  private static final int TIME = 1, VERDICT = 2, IP = 5, L4 = 6, SOURCE = 8, DESTINATION = 9, NODE_NAME = 11,
      TRAFFIC_DIRECTION = 22, DROP_REASON_DESC = 25, UUID = 34,
      EGRESS_ALLOWED_BY = 21001, INGRESS_ALLOWED_BY = 21002, EGRESS_DENIED_BY = 21004, INGRESS_DENIED_BY = 21005;
  // string slots: offset at [2 * slot], length at [2 * slot + 1]
  private static final int SRC_NS = 0, SRC_POD = 1, SRC_WORKLOAD = 2, SRC_RESERVED = 3, DST_NS = 4, DST_POD = 5,
      DST_WORKLOAD = 6, DST_RESERVED = 7, IP_SRC = 8, IP_DST = 9, NODE = 10, UUID_SLOT = 11, SLOTS = 12;
  private static final byte[] RESERVED = "reserved:".getBytes(StandardCharsets.US_ASCII);
  /** Policy lists in FlowRow.policies order, and the prefix of each. */
  private static final int[] POLICY_FIELDS = {EGRESS_ALLOWED_BY, INGRESS_ALLOWED_BY, EGRESS_DENIED_BY, INGRESS_DENIED_BY};
  private static final byte[][] EFFECT = {ascii("allow:"), ascii("allow:"), ascii("deny:"), ascii("deny:")};

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static final ThreadLocal<Scan> SCANS = ThreadLocal.withInitial(Scan::new);

  /**
   * Writes the row of the flow encoded in {@code in[0, len)}; false (and nothing written) when the
   * encoding holds something only a parser handles exactly.
   */
  static boolean encode(RowBinary.Out o, byte[] in, int len, StreamKey key, long batchSeq, long flowSeq, boolean labelColumns, long[] labelIds) {
    Scan s = SCANS.get();
    int start = o.len;
    try {
      s.scan(in, len);
      s.write(o, in, key, batchSeq, flowSeq);
      FlowBlob.writeEncoded(o, in, len, !labelColumns, labelIds);
    } catch (WireReader.Unhandled | ArrayIndexOutOfBoundsException e) {
      o.len = start;
      return false;
    }
    if (labelColumns) {
      o.u64(labelIds[0]);
      o.u64(labelIds[1]);
    }
    return true;
  }

  /** One flow's column values as found in its bytes; one per thread. */
  private static final class Scan extends WireReader {
    final int[] str = new int[2 * SLOTS];
    long seconds, nanos, verdict, dropReason, direction, srcIdentity, dstIdentity;
    int protocol, sport, dport;
    int seen; // bit per singular message field: a second occurrence would be merged by a parser
    /** Per policy list: [from, to) of each Policy message. */
    final int[][] policies = new int[4][8];
    final int[] policyCount = new int[4];
    /** One Policy's name, namespace and kind: offset and length each. */
    final int[] policyFields = new int[6];
    /** The last string read: offset and length. */
    int spanOff, spanLen;

    void scan(byte[] in, int len) {
      Arrays.fill(str, 0);
      seconds = nanos = verdict = dropReason = direction = srcIdentity = dstIdentity = 0;
      protocol = sport = dport = seen = 0;
      Arrays.fill(policyCount, 0);
      int r = 0;
      while (r < len) {
        long tag = varint(in, r);
        r = next;
        int field = (int) (tag >>> 3), type = (int) tag & 7;
        switch (field) {
          case TIME -> r = time(in, body(in, r, len, type, 0), next);
          case IP -> r = ip(in, body(in, r, len, type, 1), next);
          case L4 -> r = l4(in, body(in, r, len, type, 2), next);
          case SOURCE -> r = endpoint(in, body(in, r, len, type, 3), next, true);
          case DESTINATION -> r = endpoint(in, body(in, r, len, type, 4), next, false);
          case VERDICT -> { verdict = scalar(in, r, type); r = next; }
          case TRAFFIC_DIRECTION -> { direction = scalar(in, r, type); r = next; }
          case DROP_REASON_DESC -> { dropReason = scalar(in, r, type); r = next; }
          case NODE_NAME -> r = string(in, r, len, type, NODE);
          case UUID -> r = string(in, r, len, type, UUID_SLOT);
          case EGRESS_ALLOWED_BY, INGRESS_ALLOWED_BY, EGRESS_DENIED_BY, INGRESS_DENIED_BY -> {
            if (type != 2) throw Unhandled.INSTANCE;
            int n = length(in, r, len), list = Arrays.binarySearch(POLICY_FIELDS, field), c = policyCount[list]++;
            if (policies[list].length < 2 * (c + 1)) policies[list] = Arrays.copyOf(policies[list], 4 * (c + 1));
            policies[list][2 * c] = next;
            policies[list][2 * c + 1] = next + n;
            r = next + n;
          }
          default -> r = skip(in, r, len, type);
        }
      }
      if (r != len) throw Unhandled.INSTANCE;
    }

    void write(RowBinary.Out o, byte[] in, StreamKey key, long batchSeq, long flowSeq) {
      long t = seconds * 1_000_000_000L + (int) nanos;
      o.u32(Math.floorDiv(t, 1_000_000_000L));
      o.u32(Math.floorMod(t, 1_000_000_000L));
      o.u8((int) verdict);
      o.u16((int) dropReason);
      o.u8((int) direction);
      o.u8(protocol);
      str(o, in, SRC_NS);
      str(o, in, SRC_POD);
      workload(o, in, SRC_WORKLOAD, SRC_POD, SRC_RESERVED);
      o.u32(srcIdentity & 0xFFFFFFFFL);
      str(o, in, DST_NS);
      str(o, in, DST_POD);
      workload(o, in, DST_WORKLOAD, DST_POD, DST_RESERVED);
      o.u32(dstIdentity & 0xFFFFFFFFL);
      str(o, in, IP_SRC);
      str(o, in, IP_DST);
      o.u16(sport);
      o.u16(dport);
      str(o, in, NODE);
      o.str(key.epoch());
      o.u64(batchSeq);
      o.u64(flowSeq);
      str(o, in, UUID_SLOT);
      policies(o, in);
    }

    private void str(RowBinary.Out o, byte[] in, int slot) {
      o.str(in, str[2 * slot], str[2 * slot + 1]);
    }

    /** As FlowRow.workload: the first workload's name, else the pod, else the first reserved: label. */
    private void workload(RowBinary.Out o, byte[] in, int workload, int pod, int reserved) {
      str(o, in, str[2 * workload + 1] > 0 ? workload : str[2 * pod + 1] > 0 ? pod : reserved);
    }

    /** "allow:Kind/namespace/name" per policy, as FlowRow.policies. */
    private void policies(RowBinary.Out o, byte[] in) {
      o.varint(policyCount[0] + policyCount[1] + policyCount[2] + policyCount[3]);
      int[] f = policyFields;
      for (int list = 0; list < 4; list++) {
        for (int i = 0; i < policyCount[list]; i++) {
          policy(in, policies[list][2 * i], policies[list][2 * i + 1], f);
          byte[] effect = EFFECT[list];
          int n = effect.length + f[5] + 1 + f[3] + 1 + f[1];
          o.varint(n);
          o.ensure(n);
          put(o, effect, 0, effect.length);
          put(o, in, f[4], f[5]);
          o.buf[o.len++] = '/';
          put(o, in, f[2], f[3]);
          o.buf[o.len++] = '/';
          put(o, in, f[0], f[1]);
        }
      }
    }

    private static void put(RowBinary.Out o, byte[] b, int off, int n) {
      System.arraycopy(b, off, o.buf, o.len, n);
      o.len += n;
    }

    /** A Policy's name, namespace and kind in {@code in[r, end)}. */
    private void policy(byte[] in, int r, int end, int[] f) {
      Arrays.fill(f, 0);
      while (r < end) {
        long tag = varint(in, r);
        r = next;
        int field = (int) (tag >>> 3), type = (int) tag & 7;
        int slot = field == 1 ? 0 : field == 2 ? 1 : field == 5 ? 2 : -1;
        if (slot >= 0 && type == 2) {
          r = span(in, r, end);
          f[2 * slot] = spanOff;
          f[2 * slot + 1] = spanLen;
        } else r = skip(in, r, end, type);
      }
      if (r != end) throw Unhandled.INSTANCE;
    }

    // ---------------------------------------------------------------- messages

    /** A singular message field's first occurrence: returns where its body starts, {@link #next} where it ends. */
    private int body(byte[] in, int r, int limit, int type, int bit) {
      if (type != 2 || (seen & (1 << bit)) != 0) throw Unhandled.INSTANCE;
      seen |= 1 << bit;
      int n = length(in, r, limit), from = next;
      next = from + n;
      return from;
    }

    private int time(byte[] in, int r, int end) {
      while (r < end) {
        long tag = varint(in, r);
        r = next;
        if (tag == (1 << 3)) { seconds = varint(in, r); r = next; }
        else if (tag == (2 << 3)) { nanos = varint(in, r); r = next; }
        else r = skip(in, r, end, (int) tag & 7);
      }
      if (r != end) throw Unhandled.INSTANCE;
      return end;
    }

    private int ip(byte[] in, int r, int end) {
      while (r < end) {
        long tag = varint(in, r);
        r = next;
        int field = (int) (tag >>> 3), type = (int) tag & 7;
        r = field == 1 ? string(in, r, end, type, IP_SRC) : field == 2 ? string(in, r, end, type, IP_DST) : skip(in, r, end, type);
      }
      if (r != end) throw Unhandled.INSTANCE;
      return end;
    }

    /** Layer4's oneof: TCP, UDP, ICMPv4, ICMPv6, SCTP (fields 1-5); ports for TCP, UDP and SCTP. */
    private int l4(byte[] in, int r, int end) {
      while (r < end) {
        long tag = varint(in, r);
        r = next;
        int field = (int) (tag >>> 3), type = (int) tag & 7;
        if (field < 1 || field > 5) {
          r = skip(in, r, end, type);
          continue;
        }
        if (protocol != 0) throw Unhandled.INSTANCE; // a parser merges or replaces: not ours to decide
        int from = body(in, r, end, type, 5), to = next;
        protocol = switch (field) {
          case 1 -> FlowRow.TCP;
          case 2 -> FlowRow.UDP;
          case 3 -> FlowRow.ICMPV4;
          case 4 -> FlowRow.ICMPV6;
          default -> FlowRow.SCTP;
        };
        if (field == 1 || field == 2 || field == 5) {
          for (int p = from; p < to; ) {
            long t = varint(in, p);
            p = next;
            if (t == (1 << 3)) { sport = (int) varint(in, p); p = next; }
            else if (t == (2 << 3)) { dport = (int) varint(in, p); p = next; }
            else p = skip(in, p, to, (int) t & 7);
          }
        }
        r = to;
      }
      if (r != end) throw Unhandled.INSTANCE;
      return end;
    }

    private int endpoint(byte[] in, int r, int end, boolean source) {
      int ns = source ? SRC_NS : DST_NS, pod = source ? SRC_POD : DST_POD;
      int workload = source ? SRC_WORKLOAD : DST_WORKLOAD, reserved = source ? SRC_RESERVED : DST_RESERVED;
      boolean firstWorkload = true;
      while (r < end) {
        long tag = varint(in, r);
        r = next;
        int field = (int) (tag >>> 3), type = (int) tag & 7;
        switch (field) {
          case 2 -> {
            long v = scalar(in, r, type);
            r = next;
            if (source) srcIdentity = v;
            else dstIdentity = v;
          }
          case 3 -> r = string(in, r, end, type, ns);
          case 5 -> r = string(in, r, end, type, pod);
          case 4 -> { // labels: the first reserved: one names an endpoint without workload or pod
            if (type != 2) throw Unhandled.INSTANCE;
            r = span(in, r, end);
            if (str[2 * reserved + 1] == 0 && startsWith(in, spanOff, spanLen, RESERVED)) {
              str[2 * reserved] = spanOff;
              str[2 * reserved + 1] = spanLen;
            }
          }
          case 6 -> { // workloads: the first one's name
            if (type != 2) throw Unhandled.INSTANCE;
            int n = length(in, r, end), from = next, to = next + n;
            if (firstWorkload) {
              firstWorkload = false;
              for (int p = from; p < to; ) {
                long t = varint(in, p);
                p = next;
                p = t == (1 << 3 | 2) ? string(in, p, to, 2, workload) : skip(in, p, to, (int) t & 7);
              }
            }
            r = to;
          }
          default -> r = skip(in, r, end, type);
        }
      }
      if (r != end) throw Unhandled.INSTANCE;
      return end;
    }

    private static boolean startsWith(byte[] in, int off, int n, byte[] prefix) {
      if (n < prefix.length) return false;
      for (int i = 0; i < prefix.length; i++) if (in[off + i] != prefix[i]) return false;
      return true;
    }

    // ---------------------------------------------------------------- fields

    private long scalar(byte[] in, int r, int type) {
      if (type != 0) throw Unhandled.INSTANCE;
      return varint(in, r);
    }

    /** An ASCII string at {@code r} into spanOff/spanLen (anything else goes through the parser's UTF-8 check); returns its end. */
    private int span(byte[] in, int r, int limit) {
      int n = length(in, r, limit), off = next;
      for (int i = off; i < off + n; i++) if (in[i] < 0) throw Unhandled.INSTANCE;
      spanOff = off;
      spanLen = n;
      return off + n;
    }

    private int string(byte[] in, int r, int limit, int type, int slot) {
      if (type != 2) throw Unhandled.INSTANCE;
      int end = span(in, r, limit);
      str[2 * slot] = spanOff;
      str[2 * slot + 1] = spanLen;
      return end;
    }
  }
}
