package dev.sieve.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Finds where each HTTP/1.1 response of an upstream connection begins and ends without decoding it: the status line
 * and the headers that frame the message ({@code Content-Length}, {@code Transfer-Encoding}, {@code Connection}) are
 * read, and the bytes as the server sent them are handed on as slices of the reads (head, body and chunk framing
 * alike), so a response is relayed without being re-encoded or copied. Framing follows RFC 9112 section 6.3: no body
 * for 1xx, 204, 304 and responses to HEAD; chunked when {@code Transfer-Encoding} ends in {@code chunked} (it wins over
 * a {@code Content-Length}); else the length; else until the server closes. A head longer than the limit, a bad
 * status line, conflicting lengths or broken chunk framing is reported as malformed and nothing more is read.
 */
final class ResponseFramer {

    /** Where the framed bytes go, in order: head, the response's bytes (head included), end. */
    interface Sink {
        /**
         * Whether the request the next response ({@code status}) answers rules out a body whatever the headers say:
         * a HEAD, or a CONNECT answered 2xx (a tunnel follows).
         */
        boolean noBody(int status);

        /** A response's head is in; {@code untilClose}: its body ends when the server closes. */
        void head(int status, boolean keepAlive, boolean untilClose);

        /** Bytes of the current response, or of the tunnel; the sink owns (releases or writes) them. */
        void bytes(ByteBuf bytes);

        /** The current response is complete. */
        void end();

        /** The server's bytes are not HTTP; nothing more is delivered. */
        void malformed(String why);
    }

    private enum State { HEAD, FIXED, UNTIL_CLOSE, CHUNK_SIZE, CHUNK_EXT, CHUNK_SIZE_LF, CHUNK_DATA, CHUNK_DATA_CR, CHUNK_DATA_LF,
        TRAILER_START, TRAILER_LINE, TRAILER_END_LF, TUNNEL, DONE }

    private static final int MAX_CHUNK_LINE = 4096;
    private static final int MAX_TRAILERS = 64 * 1024;

    private final Sink sink;
    private final ByteBufAllocator alloc;
    private final int maxHead;
    private State state = State.HEAD;
    /** A head that arrived in pieces, gathered until it is complete. */
    private ByteBuf partialHead;
    /** Body bytes left (FIXED, CHUNK_DATA); the chunk size being read (CHUNK_SIZE). */
    private long remaining;
    private boolean sizeDigits;
    /** Bytes of the current chunk-size line or of the trailers, against their limits. */
    private int lineBytes;
    /** A copy of the bytes a head is looked for in. */
    private byte[] scratch = new byte[1024];
    private final Head head = new Head();
    /** The read being framed, and where its bytes not yet handed on begin. */
    private ByteBuf current;
    private int emitFrom;

    ResponseFramer(Sink sink, ByteBufAllocator alloc, int maxHead) {
        this.sink = sink;
        this.alloc = alloc;
        this.maxHead = maxHead;
    }

    /** From now on every byte is tunnel bytes (after a {@code 101}); called by the sink within {@link Sink#end()}. */
    void tunnel() {
        state = State.TUNNEL;
    }

    /** Nothing more is delivered (the sink closed the connection). */
    void stop() {
        state = State.DONE;
        releasePartial();
    }

    /** The server closed: ends a response delimited by the close. */
    void inputClosed() {
        releasePartial();
        if (state == State.UNTIL_CLOSE) {
            state = State.HEAD;
            sink.end();
        }
        state = State.DONE;
    }

    /**
     * Frames {@code in} (taken over: released or handed on). What belongs to one response goes on as one slice: the
     * framing walks {@code in}'s reader index, and the walked bytes are handed on at a response's end and at the end
     * of the read.
     */
    void feed(ByteBuf in) {
        if (partialHead != null) {
            partialHead.writeBytes(in);
            in.release();
            in = partialHead;
            partialHead = null;
        }
        current = in;
        emitFrom = in.readerIndex();
        try {
            while (in.isReadable()) {
                switch (state) {
                    case DONE -> {
                        return;
                    }
                    case HEAD -> {
                        if (!head(in)) return;
                    }
                    case FIXED -> {
                        int n = (int) Math.min(remaining, in.readableBytes());
                        in.skipBytes(n);
                        remaining -= n;
                        if (remaining == 0) endResponse();
                    }
                    case UNTIL_CLOSE, TUNNEL -> in.skipBytes(in.readableBytes());
                    default -> chunked(in);
                }
            }
        } finally {
            if (state != State.DONE) emit();
            current = null;
            in.release();
        }
    }

    /** Hands on the bytes walked since the last hand-over. */
    private void emit() {
        int to = current.readerIndex();
        if (to > emitFrom) sink.bytes(current.retainedSlice(emitFrom, to - emitFrom));
        emitFrom = to;
    }

    private void endResponse() {
        state = State.HEAD;
        emit();
        sink.end();
    }

    private void fail(String why) {
        state = State.DONE;
        releasePartial();
        sink.malformed(why);
    }

    private void releasePartial() {
        if (partialHead != null) {
            partialHead.release();
            partialHead = null;
        }
    }

    /** Reads a head from {@code in} if it is all there (else keeps what there is); false when more bytes are needed. */
    private boolean head(ByteBuf in) {
        while (in.isReadable() && (in.getByte(in.readerIndex()) == '\r' || in.getByte(in.readerIndex()) == '\n')) {
            in.skipBytes(1); // empty lines before a response, as Netty's decoder skips them
        }
        emitFrom = in.readerIndex();
        if (!in.isReadable()) return false;
        int start = in.readerIndex();
        // the head is read from a copy: one bulk copy of a few hundred bytes, then plain array access
        int n = Math.min(in.readableBytes(), Math.max(scratch.length, 1024));
        if (scratch.length < n) scratch = new byte[n];
        in.getBytes(start, scratch, 0, n);
        int headEnd = headEnd(scratch, n);
        if (headEnd < 0 && in.readableBytes() > n) {
            n = Math.min(in.readableBytes(), maxHead + 1);
            scratch = new byte[n];
            in.getBytes(start, scratch, 0, n);
            headEnd = headEnd(scratch, n);
        }
        if (headEnd < 0) {
            if (in.readableBytes() > maxHead) {
                fail("response head longer than " + maxHead + " bytes");
                return false;
            }
            partialHead = alloc.buffer(Math.max(256, in.readableBytes() * 2));
            partialHead.writeBytes(in);
            emitFrom = in.readerIndex(); // kept for the next read, not handed on
            return false;
        }
        if (headEnd > maxHead) {
            fail("response head longer than " + maxHead + " bytes");
            return false;
        }
        Head h = head;
        h.parse(scratch, headEnd);
        if (h.error != null) {
            fail(h.error);
            return false;
        }
        int status = h.status;
        boolean noBody = status < 200 || status == 204 || status == 304 || sink.noBody(status);
        boolean untilClose = false;
        if (noBody) {
            state = State.HEAD;
        } else if (h.chunked) {
            state = State.CHUNK_SIZE;
            remaining = 0;
            sizeDigits = false;
            lineBytes = 0;
        } else if (h.transferEncoding) {
            state = State.UNTIL_CLOSE;
            untilClose = true;
        } else if (h.contentLength >= 0) {
            state = h.contentLength == 0 ? State.HEAD : State.FIXED;
            remaining = h.contentLength;
        } else {
            state = State.UNTIL_CLOSE;
            untilClose = true;
        }
        State body = state;
        sink.head(status, h.keepAlive, untilClose);
        if (state == State.DONE) return false; // the sink stopped
        in.skipBytes(headEnd);
        if (body == State.HEAD) endResponse();
        return true;
    }

    /** Walks chunk framing byte by byte, chunk data in bulk; hands on what it walked as one slice. */
    private void chunked(ByteBuf in) {
        int start = in.readerIndex(), end = in.writerIndex(), i = start;
        boolean ended = false;
        walk:
        while (i < end) {
            if (state == State.CHUNK_DATA) {
                int n = (int) Math.min(remaining, end - i);
                i += n;
                remaining -= n;
                if (remaining == 0) state = State.CHUNK_DATA_CR;
                continue;
            }
            byte b = in.getByte(i++);
            switch (state) {
                case CHUNK_SIZE -> {
                    int d = Character.digit(b, 16);
                    if (d >= 0) {
                        if (remaining > (Long.MAX_VALUE >> 4)) {
                            fail("chunk size too large");
                            return;
                        }
                        remaining = remaining << 4 | d;
                        sizeDigits = true;
                    } else if (b == ';' || b == ' ' || b == '\t') {
                        state = State.CHUNK_EXT;
                    } else if (b == '\r') {
                        state = State.CHUNK_SIZE_LF;
                    } else if (b == '\n') {
                        if (!chunkSizeDone()) return;
                    } else {
                        fail("bad chunk size");
                        return;
                    }
                    if (state != State.CHUNK_DATA && state != State.TRAILER_START && ++lineBytes > MAX_CHUNK_LINE) {
                        fail("chunk size line too long");
                        return;
                    }
                }
                case CHUNK_EXT -> {
                    if (b == '\n') {
                        if (!chunkSizeDone()) return;
                    } else if (++lineBytes > MAX_CHUNK_LINE) {
                        fail("chunk size line too long");
                        return;
                    }
                }
                case CHUNK_SIZE_LF -> {
                    if (b != '\n') {
                        fail("bad chunk size line");
                        return;
                    }
                    if (!chunkSizeDone()) return;
                }
                case CHUNK_DATA_CR -> {
                    if (b == '\r') state = State.CHUNK_DATA_LF;
                    else if (b == '\n') state = State.CHUNK_SIZE;
                    else {
                        fail("chunk data not followed by CRLF");
                        return;
                    }
                }
                case CHUNK_DATA_LF -> {
                    if (b != '\n') {
                        fail("chunk data not followed by CRLF");
                        return;
                    }
                    state = State.CHUNK_SIZE;
                }
                case TRAILER_START -> {
                    if (b == '\n') {
                        ended = true;
                        break walk;
                    }
                    state = b == '\r' ? State.TRAILER_END_LF : State.TRAILER_LINE;
                    if (++lineBytes > MAX_TRAILERS) {
                        fail("trailers too long");
                        return;
                    }
                }
                case TRAILER_END_LF -> {
                    if (b != '\n') {
                        fail("bad end of trailers");
                        return;
                    }
                    ended = true;
                    break walk;
                }
                case TRAILER_LINE -> {
                    if (b == '\n') state = State.TRAILER_START;
                    if (++lineBytes > MAX_TRAILERS) {
                        fail("trailers too long");
                        return;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
        in.readerIndex(i);
        if (ended) endResponse();
    }

    /** The end of a chunk-size line: its data follows, or the trailers after the last chunk. */
    private boolean chunkSizeDone() {
        if (!sizeDigits) {
            fail("chunk size missing");
            return false;
        }
        sizeDigits = false;
        lineBytes = 0;
        if (remaining == 0) {
            state = State.TRAILER_START;
        } else {
            state = State.CHUNK_DATA;
        }
        return true;
    }

    /** Where the head in {@code b[0, n)} ends (after the empty line, LF or CRLF), or -1. */
    private static int headEnd(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] != '\n') continue;
            if (i + 1 < n && b[i + 1] == '\n') return i + 2;
            if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n') return i + 3;
        }
        return -1;
    }

    /** What the framing needs from a response head (one instance per framer, filled for each response). */
    private static final class Head {
        int status;
        boolean keepAlive;
        boolean chunked;
        boolean transferEncoding;
        long contentLength;
        String error;

        private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] CONNECTION = "connection".getBytes(StandardCharsets.US_ASCII);

        /** Reads the head in {@code b[0, end)}, which ends with its empty line. */
        void parse(byte[] b, int end) {
            status = 0;
            keepAlive = chunked = transferEncoding = false;
            contentLength = -1;
            error = null;
            int eol = lineEnd(b, 0, end);
            // HTTP-version SP 3DIGIT [SP reason]
            if (eol < 12 || !startsWith(b, "HTTP/1.") || b[8] != ' ' || !digit(b[9]) || !digit(b[10]) || !digit(b[11])
                    || eol > 12 && b[12] != ' ') {
                error = "bad status line";
                return;
            }
            boolean http10 = b[7] == '0';
            status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
            boolean close = false, keepAliveToken = false;
            int pos = next(b, eol, end);
            while (pos < end) {
                eol = lineEnd(b, pos, end);
                if (eol == pos) break; // the empty line
                int colon = indexOf(b, pos, eol, (byte) ':');
                if (colon > pos) {
                    int nameLen = colon - pos;
                    if (is(b, pos, nameLen, CONTENT_LENGTH)) {
                        long len = digits(b, colon + 1, eol);
                        if (len < 0 || contentLength >= 0 && contentLength != len) {
                            error = "bad Content-Length";
                            return;
                        }
                        contentLength = len;
                    } else if (is(b, pos, nameLen, TRANSFER_ENCODING)) {
                        transferEncoding = true;
                        String v = value(b, colon, eol).toLowerCase(java.util.Locale.ROOT);
                        chunked = v.substring(v.lastIndexOf(',') + 1).strip().equals("chunked");
                    } else if (is(b, pos, nameLen, CONNECTION)) {
                        for (String t : value(b, colon, eol).split(",")) {
                            String token = t.strip();
                            if (token.equalsIgnoreCase("close")) close = true;
                            else if (token.equalsIgnoreCase("keep-alive")) keepAliveToken = true;
                        }
                    }
                } else if (b[pos] != ' ' && b[pos] != '\t') { // not an obs-fold continuation
                    error = "bad header line";
                    return;
                }
                pos = next(b, eol, end);
            }
            keepAlive = !close && (!http10 || keepAliveToken);
        }

        private static String value(byte[] b, int colon, int eol) {
            return new String(b, colon + 1, eol - colon - 1, StandardCharsets.ISO_8859_1).strip();
        }

        /** The decimal number between optional whitespace in {@code b[from, to)}, or -1. */
        private static long digits(byte[] b, int from, int to) {
            while (from < to && (b[from] == ' ' || b[from] == '\t')) from++;
            while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) to--;
            if (from == to || to - from > 18) return -1;
            long v = 0;
            for (int i = from; i < to; i++) {
                if (!digit(b[i])) return -1;
                v = v * 10 + (b[i] - '0');
            }
            return v;
        }

        private static boolean startsWith(byte[] b, String prefix) {
            for (int i = 0; i < prefix.length(); i++) if (b[i] != prefix.charAt(i)) return false;
            return true;
        }

        private static boolean digit(byte c) {
            return c >= '0' && c <= '9';
        }

        private static int indexOf(byte[] b, int from, int to, byte c) {
            for (int i = from; i < to; i++) if (b[i] == c) return i;
            return -1;
        }

        /** Index of the line's end (its CR, or LF), from {@code from}. */
        private static int lineEnd(byte[] b, int from, int end) {
            int lf = indexOf(b, from, end, (byte) '\n');
            if (lf < 0) lf = end;
            return lf > from && b[lf - 1] == '\r' ? lf - 1 : lf;
        }

        /** The start of the line after the one ending at {@code eol}. */
        private static int next(byte[] b, int eol, int end) {
            int i = eol;
            if (i < end && b[i] == '\r') i++;
            if (i < end && b[i] == '\n') i++;
            return i;
        }

        private static boolean is(byte[] b, int from, int len, byte[] lowerName) {
            if (len != lowerName.length) return false;
            for (int i = 0; i < len; i++) {
                int c = b[from + i];
                if (c >= 'A' && c <= 'Z') c += 32;
                if (c != lowerName[i]) return false;
            }
            return true;
        }
    }
}
