package dev.sieve.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Looks at a connection's first bytes: HTTP/2's connection preface (prior knowledge, as gRPC's plaintext clients
 * send it) selects HTTP/2, a request line's method token HTTP/1.1, anything else is garbage. Hands the bytes on and
 * leaves the pipeline.
 */
final class ProtocolSniffer extends ByteToMessageDecoder {

    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    /** Longest method token looked at before a space must come. */
    private static final int MAX_METHOD = 32;

    interface Choice {
        void http1(ChannelHandlerContext ctx);

        void http2(ChannelHandlerContext ctx);

        void garbage(ChannelHandlerContext ctx);
    }

    private final Choice choice;

    ProtocolSniffer(Choice choice) {
        this.choice = choice;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int n = in.readableBytes();
        boolean preface = true;
        for (int i = 0; i < Math.min(n, PREFACE.length) && preface; i++) preface = in.getByte(start + i) == PREFACE[i];
        if (preface) {
            if (n < PREFACE.length) return;
            choose(ctx, () -> choice.http2(ctx));
            return;
        }
        for (int i = 0; i < Math.min(n, MAX_METHOD + 1); i++) {
            byte b = in.getByte(start + i);
            if (b == ' ' && i > 0) {
                choose(ctx, () -> choice.http1(ctx));
                return;
            }
            if (!tchar(b)) {
                garbage(ctx, in);
                return;
            }
        }
        if (n > MAX_METHOD) garbage(ctx, in);
    }

    private void garbage(ChannelHandlerContext ctx, ByteBuf in) {
        in.skipBytes(in.readableBytes());
        choose(ctx, () -> choice.garbage(ctx));
    }

    private void choose(ChannelHandlerContext ctx, Runnable setup) {
        setup.run();
        ctx.pipeline().remove(this); // passes the bytes read so far to the protocol's handlers
    }

    /** RFC 9110's token characters. */
    private static boolean tchar(byte b) {
        if (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') return true;
        return "!#$%&'*+-.^_`|~".indexOf(b) >= 0;
    }
}
