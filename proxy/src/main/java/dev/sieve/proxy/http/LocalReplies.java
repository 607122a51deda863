package dev.sieve.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpResponseStatus;
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

    /** An HTTP/1.1 answer, encoded (responses are relayed as bytes; there is no response encoder in the pipeline). */
    static ByteBuf http1(ByteBufAllocator alloc, int status, boolean close) {
        String body = body(status);
        StringBuilder r = new StringBuilder(160).append("HTTP/1.1 ").append(status).append(' ')
                .append(HttpResponseStatus.valueOf(status).reasonPhrase()).append("\r\n")
                .append("content-length: ").append(body.length()).append("\r\n")
                .append("content-type: text/plain\r\n")
                .append("date: ").append(DateFormatter.format(new Date())).append("\r\n");
        if (close) r.append("connection: close\r\n");
        r.append("\r\n").append(body);
        return ByteBufUtil.writeAscii(alloc, r);
    }
}
