package dev.sieve.relay.store.clickhouse;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Minimal RowBinary encoding (little-endian fixed ints, LEB128-length strings) for inserts and reads. */
final class RowBinary {
    private RowBinary() {}

    /** A growable output buffer. */
    static final class Out {
        byte[] buf;
        int len;

        Out(int initial) {
            buf = new byte[initial];
        }

        /** Writes into {@code buf} (from its start), growing it as needed. */
        Out(byte[] buf) {
            this.buf = buf;
        }

        void ensure(int n) {
            if (len + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        }

        void u8(int v) {
            ensure(1);
            buf[len++] = (byte) v;
        }

        void u16(int v) {
            ensure(2);
            buf[len++] = (byte) v;
            buf[len++] = (byte) (v >>> 8);
        }

        void u32(long v) {
            ensure(4);
            for (int i = 0; i < 4; i++) buf[len++] = (byte) (v >>> (8 * i));
        }

        void u64(long v) {
            ensure(8);
            for (int i = 0; i < 8; i++) buf[len++] = (byte) (v >>> (8 * i));
        }

        void varint(long v) {
            ensure(10);
            while ((v & ~0x7FL) != 0) {
                buf[len++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[len++] = (byte) v;
        }

        void bytes(byte[] b) {
            str(b, 0, b.length);
        }

        /** A String value from UTF-8 bytes. */
        void str(byte[] b, int off, int n) {
            varint(n);
            ensure(n);
            System.arraycopy(b, off, buf, len, n);
            len += n;
        }

        void str(String s) {
            int n = s.length();
            boolean ascii = n < 128;
            if (ascii) for (int i = 0; i < n; i++) if (s.charAt(i) >= 0x80) { ascii = false; break; }
            if (!ascii) { bytes(s.getBytes(StandardCharsets.UTF_8)); return; }
            ensure(n + 1);
            buf[len++] = (byte) n;
            for (int i = 0; i < n; i++) buf[len++] = (byte) s.charAt(i);
        }

        /** The concatenation of {@code parts} as one String value. */
        void strConcat(String... parts) {
            int n = 0;
            for (String p : parts) {
                for (int i = 0; i < p.length(); i++) {
                    if (p.charAt(i) >= 0x80) { str(String.join("", parts)); return; }
                }
                n += p.length();
            }
            varint(n);
            ensure(n);
            for (String p : parts) {
                for (int i = 0; i < p.length(); i++) buf[len++] = (byte) p.charAt(i);
            }
        }

        void append(Out o) {
            ensure(o.len);
            System.arraycopy(o.buf, 0, buf, len, o.len);
            len += o.len;
        }
    }

    /** A reader over a RowBinary response. */
    static final class In {
        private final InputStream in;

        In(InputStream in) {
            this.in = in;
        }

        int u8() throws IOException {
            int b = in.read();
            if (b < 0) throw new EOFException();
            return b;
        }

        /** Reads the first byte of a row, or returns -1 at the end of the stream. */
        int firstByteOrEnd() throws IOException {
            return in.read();
        }

        int u16() throws IOException {
            return u8() | u8() << 8;
        }

        long u32() throws IOException {
            long v = 0;
            for (int i = 0; i < 4; i++) v |= (long) u8() << (8 * i);
            return v;
        }

        long u32(int first) throws IOException {
            long v = first;
            for (int i = 1; i < 4; i++) v |= (long) u8() << (8 * i);
            return v;
        }

        long u64() throws IOException {
            long v = 0;
            for (int i = 0; i < 8; i++) v |= (long) u8() << (8 * i);
            return v;
        }

        long u64(int first) throws IOException {
            long v = first;
            for (int i = 1; i < 8; i++) v |= (long) u8() << (8 * i);
            return v;
        }

        long varint() throws IOException {
            long v = 0;
            int shift = 0;
            while (true) {
                int b = u8();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
                shift += 7;
            }
        }

        byte[] bytes() throws IOException {
            int n = (int) varint();
            byte[] b = in.readNBytes(n);
            if (b.length != n) throw new EOFException();
            return b;
        }

        String str() throws IOException {
            return new String(bytes(), StandardCharsets.UTF_8);
        }
    }
}
