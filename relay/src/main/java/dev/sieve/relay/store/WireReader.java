package dev.sieve.relay.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;

/**
 * The protobuf wire read over one byte array, as {@link FlowColumns} needs it: tags, varints, limits
 * and skips with {@code CodedInputStream}'s checks (truncation, malformed varints, tag zero, bad wire
 * types, unmatched groups), but one reused object with no virtual calls, no allocation and no
 * buffer-refill logic: the read of every stored flow goes through here.
 */
final class WireReader {
    private static final int GROUP_DEPTH = 100;

    private byte[] buf;
    private int pos, limit;

    /** Reads {@code buf[0, n)} from the start. */
    void reset(byte[] buf, int n) {
        this.buf = buf;
        this.pos = 0;
        this.limit = n;
    }

    /** Where the read is (bytes from the start). */
    int position() {
        return pos;
    }

    /** The next field's tag, 0 at the current limit. */
    int readTag() throws InvalidProtocolBufferException {
        if (pos == limit) return 0;
        int b = buf[pos];
        int tag;
        if (b >= 0) {
            pos++;
            tag = b;
        } else {
            tag = readVarint32();
        }
        if (WireFormat.getTagFieldNumber(tag) == 0) throw new InvalidProtocolBufferException("Protocol message contained an invalid tag (zero).");
        return tag;
    }

    /** A varint's low 32 bits (as protobuf reads int32, uint32, enums and lengths). */
    int readVarint32() throws InvalidProtocolBufferException {
        int p = pos;
        if (limit - p >= 10) {
            byte[] b = buf;
            int x = b[p++];
            if (x >= 0) {
                pos = p;
                return x;
            }
            if ((x ^= b[p++] << 7) < 0) {
                x ^= ~0 << 7;
            } else if ((x ^= b[p++] << 14) >= 0) {
                x ^= (~0 << 7) ^ (~0 << 14);
            } else if ((x ^= b[p++] << 21) < 0) {
                x ^= (~0 << 7) ^ (~0 << 14) ^ (~0 << 21);
            } else {
                int y = b[p++];
                x ^= y << 28;
                x ^= (~0 << 7) ^ (~0 << 14) ^ (~0 << 21) ^ (~0 << 28);
                if (y < 0 && b[p++] < 0 && b[p++] < 0 && b[p++] < 0 && b[p++] < 0 && b[p++] < 0) throw malformed();
            }
            pos = p;
            return x;
        }
        return (int) readVarint64Slow();
    }

    long readVarint64() throws InvalidProtocolBufferException {
        int p = pos;
        if (limit - p >= 10) {
            byte[] b = buf;
            long x = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte v = b[p++];
                x |= (long) (v & 0x7F) << shift;
                if (v >= 0) {
                    pos = p;
                    return x;
                }
            }
            throw malformed();
        }
        return readVarint64Slow();
    }

    private long readVarint64Slow() throws InvalidProtocolBufferException {
        long x = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos == limit) throw truncated();
            byte v = buf[pos++];
            x |= (long) (v & 0x7F) << shift;
            if (v >= 0) return x;
        }
        throw malformed();
    }

    /** Enters a length-delimited field whose length is next; returns the limit to restore with {@link #popLimit}. */
    int pushLimit() throws InvalidProtocolBufferException {
        int n = readVarint32();
        if (n < 0) throw negativeSize();
        if (n > limit - pos) throw truncated();
        int old = limit;
        limit = pos + n;
        return old;
    }

    /** Leaves the field entered by {@link #pushLimit}: the read must be at its end. */
    void popLimit(int old) {
        limit = old;
    }

    void skipRawBytes(int n) throws InvalidProtocolBufferException {
        if (n < 0) throw negativeSize();
        if (n > limit - pos) throw truncated();
        pos += n;
    }

    /** Skips the field of {@code tag}; false for an end-group tag (which ends a group, not a field). */
    boolean skipField(int tag) throws InvalidProtocolBufferException {
        return skipField(tag, 0);
    }

    private boolean skipField(int tag, int depth) throws InvalidProtocolBufferException {
        switch (WireFormat.getTagWireType(tag)) {
            case WireFormat.WIRETYPE_VARINT -> readVarint64();
            case WireFormat.WIRETYPE_FIXED64 -> skipRawBytes(8);
            case WireFormat.WIRETYPE_LENGTH_DELIMITED -> skipRawBytes(readVarint32());
            case WireFormat.WIRETYPE_FIXED32 -> skipRawBytes(4);
            case WireFormat.WIRETYPE_START_GROUP -> {
                if (depth >= GROUP_DEPTH) throw new InvalidProtocolBufferException("Protocol message had too many levels of nesting.");
                int t;
                while ((t = readTag()) != 0 && skipField(t, depth + 1)) {
                    // fields of the group
                }
                if (t != (WireFormat.getTagFieldNumber(tag) << 3 | WireFormat.WIRETYPE_END_GROUP)) {
                    throw new InvalidProtocolBufferException("Protocol message end-group tag did not match expected tag.");
                }
            }
            case WireFormat.WIRETYPE_END_GROUP -> {
                return false;
            }
            default -> throw new InvalidProtocolBufferException("Protocol message tag had invalid wire type.");
        }
        return true;
    }

    private static InvalidProtocolBufferException truncated() {
        return new InvalidProtocolBufferException("While parsing a protocol message, the input ended unexpectedly in the middle of a field.");
    }

    private static InvalidProtocolBufferException malformed() {
        return new InvalidProtocolBufferException("CodedInputStream encountered a malformed varint.");
    }

    private static InvalidProtocolBufferException negativeSize() {
        return new InvalidProtocolBufferException("CodedInputStream encountered an embedded string or message which claimed to have negative size.");
    }
}
