package dev.sieve.relay.ingest;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.SocketAddress;

/**
 * Carries stream-level facts into the Push handler: the peer address and the node's spool as it
 * reports it in request headers {@code sieve-spool-batches} / {@code sieve-spool-bytes} (FlowBatch
 * has no field for it yet).
 */
public class IngestHeaders implements ServerInterceptor {
    public static final Metadata.Key<String> SPOOL_BATCHES = Metadata.Key.of("sieve-spool-batches", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> SPOOL_BYTES = Metadata.Key.of("sieve-spool-bytes", Metadata.ASCII_STRING_MARSHALLER);
    public record Info(String peer, long spoolBatches, long spoolBytes) {}
    public static final Context.Key<Info> INFO = Context.key("sieve-ingest-info");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        SocketAddress a = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        Info info = new Info(a == null ? "" : a.toString().replaceFirst("^/", ""), num(headers.get(SPOOL_BATCHES)), num(headers.get(SPOOL_BYTES)));
        return Contexts.interceptCall(Context.current().withValue(INFO, info), call, headers, next);
    }

    private static long num(String s) {
        if (s == null) return -1;
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
