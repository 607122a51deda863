package dev.sieve.relay.store.clickhouse;

/**
 * Reads protobuf's wire format from a byte array, for the scans that write rows ({@link EncodedRow})
 * and strip blobs ({@link FlowBlob}) from encoded flows. Each read returns its value and leaves where
 * it ended in {@link #next}; one reader per thread. Input it does not handle — truncated, a length
 * past its limit, a group, an over-long varint — throws {@link Unhandled}.
 */
class WireReader {
  /** Input a scan does not handle exactly; carries no stack (it is a normal outcome). */
  static final class Unhandled extends RuntimeException {
    static final Unhandled INSTANCE = new Unhandled();

    private Unhandled() {
      super(null, null, false, false);
    }
  }

  /** Where the last varint (or the varint of a length prefix) ended. */
  int next;

  long varint(byte[] in, int at) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = in[at++];
      v |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        next = at;
        return v;
      }
    }
    throw Unhandled.INSTANCE;
  }

  /** A length prefix at {@code at} whose bytes end by {@code limit}; {@link #next} is where they start. */
  int length(byte[] in, int at, int limit) {
    long n = varint(in, at);
    if (n < 0 || next + n > limit) throw Unhandled.INSTANCE;
    return (int) n;
  }

  /** Where the field of wire {@code type} whose payload starts at {@code at} ends (by {@code limit}). */
  int skip(byte[] in, int at, int limit, int type) {
    int end = switch (type) {
      case 0 -> { varint(in, at); yield next; }
      case 1 -> at + 8;
      case 5 -> at + 4;
      case 2 -> { int n = length(in, at, limit); yield next + n; }
      default -> throw Unhandled.INSTANCE; // groups: never in flow.proto
    };
    if (end > limit) throw Unhandled.INSTANCE;
    return end;
  }
}
