package dev.sieve.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where responses begin and end, whatever way the server's bytes are cut into reads; the bytes come out unchanged. */
class ResponseFramerTest {

    /** Records what the framer tells, and the bytes of each response. */
    private static final class Recorder implements ResponseFramer.Sink {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Boolean> headRequests;
        int asked;
        int slices;
        /** Switches this framer to a tunnel at the end of a response, as the proxy does after a 101. */
        ResponseFramer tunnelOnEnd;

        Recorder(List<Boolean> headRequests) {
            this.headRequests = headRequests;
        }

        @Override
        public boolean noBody(int status) {
            return asked < headRequests.size() && headRequests.get(asked);
        }

        @Override
        public void head(int status, boolean keepAlive, boolean untilClose) {
            events.add("head " + status + (keepAlive ? "" : " close") + (untilClose ? " until-close" : ""));
            if (status >= 200) asked++;
        }

        @Override
        public void bytes(ByteBuf b) {
            slices++;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            bytes.writeBytes(a);
        }

        @Override
        public void end() {
            events.add("end");
            if (tunnelOnEnd != null) tunnelOnEnd.tunnel();
        }

        @Override
        public void malformed(String why) {
            events.add("malformed");
        }
    }

    private static final String CHUNKED = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n"
            + "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: t\r\n\r\n";
    private static final String FIXED = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    private static final String CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
    private static final String NO_CONTENT = "HTTP/1.1 204 No Content\r\n\r\n";
    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    private static final String CLOSE = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc";

    /** Every response kind in one pipelined stream, cut at every position into two reads, then byte by byte. */
    @Test
    void framesPipelinedResponsesWhereverTheReadsAreCut() {
        String all = CHUNKED + FIXED + CONTINUE + NO_CONTENT + FIXED + HEAD + CLOSE;
        List<Boolean> heads = List.of(false, false, false, false, true, false);
        List<String> expected = List.of("head 200", "end", "head 200", "end", "head 100", "end", "head 204", "end",
                "head 200", "end", "head 200", "end", "head 200 close", "end");
        byte[] b = all.getBytes(StandardCharsets.ISO_8859_1);
        for (int cut = 0; cut <= b.length; cut++) {
            Recorder r = new Recorder(heads);
            ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
            f.feed(Unpooled.wrappedBuffer(b, 0, cut));
            f.feed(Unpooled.wrappedBuffer(b, cut, b.length - cut));
            assertThat(r.events).as("cut at %d", cut).isEqualTo(expected);
            assertThat(r.bytes.toString(StandardCharsets.ISO_8859_1)).isEqualTo(all);
        }
        Recorder r = new Recorder(heads);
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
        for (byte x : b) f.feed(Unpooled.wrappedBuffer(new byte[] {x}));
        assertThat(r.events).isEqualTo(expected);
        assertThat(r.bytes.toString(StandardCharsets.ISO_8859_1)).isEqualTo(all);
    }

    /** A response that arrives in one read goes on as one slice of it (one buffer for the client's socket write). */
    @Test
    void oneReadOneSlice() {
        Recorder r = new Recorder(List.of());
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
        f.feed(Unpooled.copiedBuffer(CHUNKED, StandardCharsets.ISO_8859_1));
        assertThat(r.slices).isEqualTo(1);
        f.feed(Unpooled.copiedBuffer(FIXED + FIXED, StandardCharsets.ISO_8859_1));
        assertThat(r.slices).isEqualTo(3);
        assertThat(r.events).containsExactly("head 200", "end", "head 200", "end", "head 200", "end");
    }

    @Test
    void bodyWithoutLengthEndsWhenTheServerCloses() {
        Recorder r = new Recorder(List.of());
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
        f.feed(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\n\r\nstream", StandardCharsets.ISO_8859_1));
        f.feed(Unpooled.copiedBuffer(" of bytes", StandardCharsets.ISO_8859_1));
        assertThat(r.events).containsExactly("head 200 until-close");
        f.inputClosed();
        assertThat(r.events).containsExactly("head 200 until-close", "end");
        assertThat(r.bytes.toString(StandardCharsets.ISO_8859_1)).endsWith("stream of bytes");
    }

    @Test
    void transferEncodingWinsOverContentLength() {
        Recorder r = new Recorder(List.of());
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
        f.feed(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                + "2\r\nok\r\n0\r\n\r\n", StandardCharsets.ISO_8859_1));
        assertThat(r.events).containsExactly("head 200", "end");
    }

    @Test
    void malformedResponsesStopTheFraming() {
        for (String bad : List.of("SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX")) {
            Recorder r = new Recorder(List.of());
            ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
            f.feed(Unpooled.copiedBuffer(bad + FIXED, StandardCharsets.ISO_8859_1));
            assertThat(r.events).as(bad).endsWith("malformed").doesNotContain("end");
        }
        Recorder r = new Recorder(List.of());
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 64);
        f.feed(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nX: " + "a".repeat(100), StandardCharsets.ISO_8859_1));
        assertThat(r.events).containsExactly("malformed");
    }

    @Test
    void bytesAfterASwitchGoThroughAsTheyAre() {
        Recorder r = new Recorder(List.of());
        ResponseFramer f = new ResponseFramer(r, ByteBufAllocator.DEFAULT, 4096);
        r.tunnelOnEnd = f;
        String in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u0081\u0002hi";
        f.feed(Unpooled.copiedBuffer(in, StandardCharsets.ISO_8859_1));
        f.feed(Unpooled.copiedBuffer("HTTP/1.1 not parsed", StandardCharsets.ISO_8859_1));
        assertThat(r.events).containsExactly("head 101", "end");
        assertThat(r.bytes.toString(StandardCharsets.ISO_8859_1)).isEqualTo(in + "HTTP/1.1 not parsed");
    }
}
