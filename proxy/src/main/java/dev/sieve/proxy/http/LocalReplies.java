package dev.sieve.proxy.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Date;

/** The proxy's own answers, shaped as Envoy's local replies: a short text/plain body with its length and a date. */
final class LocalReplies {

    /** Envoy's body for Cilium's policy denials. */
    static final String ACCESS_DENIED = "Access denied";
    /** Envoy's body when the upstream cannot be reached or breaks before its headers. */
    static final String UPSTREAM_FAILED = "upstream connect error or disconnect/reset before headers";

    private LocalReplies() {}

    static String body(int status) {
        return switch (status) {
            case 403 -> ACCESS_DENIED;
            case 400 -> "Bad Request";
            case 408 -> "Request Timeout";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 502, 503 -> UPSTREAM_FAILED;
            default -> HttpResponseStatus.valueOf(status).reasonPhrase();
        };
    }

    static FullHttpResponse http1(ByteBufAllocator alloc, int status, boolean close) {
        byte[] body = body(status).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                ByteBufUtil.writeAscii(alloc, body(status)));
        r.headers().set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .set(HttpHeaderNames.DATE, DateFormatter.format(new Date()));
        if (close) r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }
}
