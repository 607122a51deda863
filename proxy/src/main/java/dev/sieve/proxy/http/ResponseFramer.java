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
        /** Whether the request the next response answers was a HEAD (its response has no body). */
        boolean headRequest();

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

    /** Frames {@code in} (taken over: released or handed on). */
    void feed(ByteBuf in) {
        if (partialHead != null) {
            partialHead.writeBytes(in);
            in.release();
            in = partialHead;
            partialHead = null;
        }
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
                        sink.bytes(in.readRetainedSlice(n));
                        remaining -= n;
                        if (remaining == 0) endResponse();
                    }
                    case UNTIL_CLOSE, TUNNEL -> sink.bytes(in.readRetainedSlice(in.readableBytes()));
                    default -> chunked(in);
                }
            }
        } finally {
            in.release();
        }
    }

    private void endResponse() {
        state = State.HEAD;
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
        if (!in.isReadable()) return false;
        int start = in.readerIndex(), end = in.writerIndex();
        int headEnd = -1;
        for (int i = start; i < end; i++) { // a line that is empty (LF or CRLF) ends the head
            if (in.getByte(i) != '\n') continue;
            if (i + 1 < end && in.getByte(i + 1) == '\n') {
                headEnd = i + 2;
                break;
            }
            if (i + 2 < end && in.getByte(i + 1) == '\r' && in.getByte(i + 2) == '\n') {
                headEnd = i + 3;
                break;
            }
        }
        if (headEnd < 0) {
            if (in.readableBytes() > maxHead) {
                fail("response head longer than " + maxHead + " bytes");
                return false;
            }
            partialHead = alloc.buffer(Math.max(256, in.readableBytes() * 2));
            partialHead.writeBytes(in);
            return false;
        }
        if (headEnd - start > maxHead) {
            fail("response head longer than " + maxHead + " bytes");
            return false;
        }
        Head h = Head.parse(in, start, headEnd);
        if (h.error != null) {
            fail(h.error);
            return false;
        }
        int status = h.status;
        boolean noBody = status < 200 || status == 204 || status == 304 || sink.headRequest();
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
        sink.bytes(in.readRetainedSlice(headEnd - start));
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
        sink.bytes(in.readRetainedSlice(i - start));
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

    /** What the framing needs from a response head. */
    private static final class Head {
        int status;
        boolean keepAlive;
        boolean chunked;
        boolean transferEncoding;
        long contentLength = -1;
        String error;

        static Head parse(ByteBuf b, int start, int end) {
            Head h = new Head();
            int eol = lineEnd(b, start, end);
            String status = b.toString(start, eol - start, StandardCharsets.ISO_8859_1);
            // HTTP-version SP 3DIGIT [SP reason]
            if (!status.startsWith("HTTP/1.") || status.length() < 12 || status.charAt(8) != ' '
                    || !digit(status.charAt(9)) || !digit(status.charAt(10)) || !digit(status.charAt(11))
                    || status.length() > 12 && status.charAt(12) != ' ') {
                h.error = "bad status line";
                return h;
            }
            boolean http10 = status.charAt(7) == '0';
            h.status = (status.charAt(9) - '0') * 100 + (status.charAt(10) - '0') * 10 + (status.charAt(11) - '0');
            boolean close = false, keepAliveToken = false;
            int pos = next(b, eol, end);
            while (pos < end) {
                eol = lineEnd(b, pos, end);
                if (eol == pos) break; // the empty line
                int colon = b.indexOf(pos, eol, (byte) ':');
                if (colon > pos) {
                    int nameLen = colon - pos;
                    String value = b.toString(colon + 1, eol - colon - 1, StandardCharsets.ISO_8859_1).strip();
                    if (is(b, pos, nameLen, "content-length")) {
                        long len;
                        try {
                            len = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            len = -2;
                        }
                        if (len < 0 || h.contentLength >= 0 && h.contentLength != len) {
                            h.error = "bad Content-Length";
                            return h;
                        }
                        h.contentLength = len;
                    } else if (is(b, pos, nameLen, "transfer-encoding")) {
                        h.transferEncoding = true;
                        String v = value.toLowerCase(java.util.Locale.ROOT);
                        int comma = v.lastIndexOf(',');
                        h.chunked = v.substring(comma + 1).strip().equals("chunked");
                    } else if (is(b, pos, nameLen, "connection")) {
                        for (String t : value.split(",")) {
                            String token = t.strip();
                            if (token.equalsIgnoreCase("close")) close = true;
                            else if (token.equalsIgnoreCase("keep-alive")) keepAliveToken = true;
                        }
                    }
                } else if (b.getByte(pos) != ' ' && b.getByte(pos) != '\t') { // not an obs-fold continuation
                    h.error = "bad header line";
                    return h;
                }
                pos = next(b, eol, end);
            }
            h.keepAlive = !close && (!http10 || keepAliveToken);
            return h;
        }

        private static boolean digit(char c) {
            return c >= '0' && c <= '9';
        }

        /** Index of the line's end (its CR, or LF), from {@code from}. */
        private static int lineEnd(ByteBuf b, int from, int end) {
            int lf = b.indexOf(from, end, (byte) '\n');
            if (lf < 0) lf = end;
            return lf > from && b.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        }

        /** The start of the line after the one ending at {@code eol}. */
        private static int next(ByteBuf b, int eol, int end) {
            int i = eol;
            if (i < end && b.getByte(i) == '\r') i++;
            if (i < end && b.getByte(i) == '\n') i++;
            return i;
        }

        private static boolean is(ByteBuf b, int from, int len, String lowerName) {
            if (len != lowerName.length()) return false;
            for (int i = 0; i < len; i++) {
                int c = b.getByte(from + i);
                if (c >= 'A' && c <= 'Z') c += 32;
                if (c != lowerName.charAt(i)) return false;
            }
            return true;
        }
    }
}
