package dev.sieve.cli.observe;

import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.cli.UsageException;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A connection (plaintext, or TLS as {@link ObserverChannels} sets it up) to an Observer API server (a node on 4244 or the relay on 4245), and the mapping
 * of gRPC failures to the CLI's exit codes: an unreachable server, a TLS/protocol mismatch or a rejected
 * request (INVALID_ARGUMENT) is the user's input (exit 2); anything else is a failure (exit 1).
 */
public final class ObserverClient implements AutoCloseable {

    public static final String DEFAULT_SERVER = "localhost:4245";

    static {
        // Unless the launcher allows it (bin/sieve does), a short-lived client needs neither Netty's native transports nor sun.misc.Unsafe (which the JDK warns
        // about on stderr); and gRPC's INFO logging is noise on a terminal.
        if (System.getProperty("io.grpc.netty.shaded.io.netty.noUnsafe") == null) System.setProperty("io.grpc.netty.shaded.io.netty.noUnsafe", "true");
        System.setProperty("io.grpc.netty.shaded.io.netty.transport.noNative", "true");
        java.util.logging.Logger.getLogger("io.grpc").setLevel(java.util.logging.Level.WARNING);
    }

    /** Keeps the logger configured above from being garbage-collected (JUL holds loggers weakly). */
    private static final java.util.logging.Logger GRPC_LOGGER = java.util.logging.Logger.getLogger("io.grpc");

    private final String target;
    private final boolean tls;
    private final ManagedChannel channel;
    private final NioEventLoopGroup group;

    public ObserverClient(String server) {
        this(server, (dev.sieve.tls.ClientTls) null);
    }

    public ObserverClient(String server, TlsOptions tls) {
        this(server, tls == null ? null : tls.clientTls());
    }

    /** {@code tls} null: plaintext. */
    public ObserverClient(String server, dev.sieve.tls.ClientTls tls) {
        this.target = server;
        this.tls = tls != null;
        HostPort hp = HostPort.parse(server);
        // one NIO thread: a CLI needs no epoll transport, and NIO starts faster
        this.group = new NioEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "sieve-grpc");
            t.setDaemon(true);
            return t;
        });
        java.net.InetSocketAddress address;
        try {
            // a resolved address: no name-resolver machinery to load in a short-lived client
            address = new java.net.InetSocketAddress(java.net.InetAddress.getByName(hp.host), hp.port);
        } catch (java.net.UnknownHostException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new UsageException("cannot reach the Observer API at " + server + ": unknown host " + hp.host);
        }
        this.channel = ObserverChannels.secure(NettyChannelBuilder.forAddress(address), tls, hp.host)
                .channelType(NioSocketChannel.class)
                .eventLoopGroup(group)
                .maxInboundMessageSize(64 << 20)
                // callbacks run on the one event-loop thread: no hand-off to the caller per streamed message
                .directExecutor()
                .build();
    }

    public ObserverGrpc.ObserverBlockingStub blocking() {
        return ObserverGrpc.newBlockingStub(channel);
    }

    ObserverGrpc.ObserverBlockingStub blocking(long timeoutSeconds) {
        return ObserverGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
    }

    /**
     * Streams GetFlows to {@code each}, on the event-loop thread (no thread hand-off per flow, which costs more
     * than decoding it when a million flows come), and returns when the server ends the stream. Failures of
     * the call come back as {@link #failure}'s one-line exceptions; an exception thrown by {@code each}
     * cancels the call and is rethrown.
     */
    public void getFlows(GetFlowsRequest request, java.util.function.Consumer<GetFlowsResponse> each) {
        stream(ObserverGrpc.getGetFlowsMethod(), request, each);
    }

    /** GetFlows answered as {@link com.google.protobuf.DynamicMessage}s: see {@link #getFlowsUntyped}. */
    private static final io.grpc.MethodDescriptor<GetFlowsRequest, com.google.protobuf.DynamicMessage> GET_FLOWS_UNTYPED =
            ObserverGrpc.getGetFlowsMethod().toBuilder(ObserverGrpc.getGetFlowsMethod().getRequestMarshaller(),
                    io.grpc.protobuf.ProtoUtils.marshaller(com.google.protobuf.DynamicMessage.getDefaultInstance(GetFlowsResponse.getDescriptor())))
                    .build();

    /**
     * {@link #getFlows}, each response a {@link com.google.protobuf.DynamicMessage} of GetFlowsResponse's
     * descriptor: a printer that walks every field by descriptor (JSON) reads those from a field map, where a
     * generated message answers each through reflection (measured: 10,000 flows parsed and printed as JSON in
     * 0.6 s CPU instead of 0.95 s).
     */
    public void getFlowsUntyped(GetFlowsRequest request, java.util.function.Consumer<com.google.protobuf.Message> each) {
        stream(GET_FLOWS_UNTYPED, request, each::accept);
    }

    private <R> void stream(io.grpc.MethodDescriptor<GetFlowsRequest, R> method, GetFlowsRequest request, java.util.function.Consumer<R> each) {
        var done = new java.util.concurrent.CountDownLatch(1);
        var error = new java.util.concurrent.atomic.AtomicReference<Throwable>();
        io.grpc.stub.ClientCalls.asyncServerStreamingCall(channel.newCall(method, io.grpc.CallOptions.DEFAULT), request,
                new ClientResponseObserver<GetFlowsRequest, R>() {
            ClientCallStreamObserver<GetFlowsRequest> call;

            @Override
            public void beforeStart(ClientCallStreamObserver<GetFlowsRequest> requestStream) {
                call = requestStream;
            }

            @Override
            public void onNext(R r) {
                if (error.get() != null) return;
                try {
                    each.accept(r);
                } catch (RuntimeException | Error e) {
                    error.set(e);
                    call.cancel("client failed", null);
                    done.countDown();
                }
            }

            @Override
            public void onError(Throwable t) {
                error.compareAndSet(null, t);
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        });
        try {
            done.await();
        } catch (InterruptedException e) { // the run was cancelled (the daemon's client went away): so is the call
            channel.shutdownNow();
            Thread.currentThread().interrupt();
            throw new ServerFailure("interrupted");
        }
        Throwable t = error.get();
        if (t == null) return;
        if (t instanceof StatusRuntimeException sre) throw failure(sre);
        if (t instanceof io.grpc.StatusException se) throw failure(new StatusRuntimeException(se.getStatus(), se.getTrailers()));
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error err) throw err;
        throw new ServerFailure(t.toString());
    }

    /** The one-line error for a failed call, as an exception Main prints without a stack trace. */
    public RuntimeException failure(StatusRuntimeException e) {
        Status s = e.getStatus();
        String why = s.getDescription() != null ? s.getDescription() : s.getCode().toString();
        if (s.getCause() != null && s.getCause().getMessage() != null) why = rootMessage(s.getCause());
        String desc = why;
        int hex = desc.indexOf("Hex dump for first 5 bytes: ");
        if (desc.contains("First received frame was not SETTINGS") && hex >= 0) {
            String first = desc.substring(hex + "Hex dump for first 5 bytes: ".length());
            // a TLS record (handshake 0x16 / alert 0x15, version 3.x) where the HTTP/2 SETTINGS frame should be
            if (first.matches("1[56]03.*")) {
                return new UsageException("the Observer API at " + target + " speaks TLS: add --tls and --tls-ca-cert-files FILE");
            }
            return new UsageException(target + " does not speak gRPC over plaintext HTTP/2 (is it the Observer API port? a node listens on :4244, the relay on :4245)");
        }
        return switch (s.getCode()) {
            case UNAVAILABLE -> new UsageException("cannot reach the Observer API at " + target + ": " + why
                    + (tls ? " (is the server running, and does it trust this client?)" : " (is the server running, and plaintext? use --server HOST:PORT, or --tls)"));
            case UNAUTHENTICATED, PERMISSION_DENIED -> new UsageException("refused by " + target + ": " + why);
            case DEADLINE_EXCEEDED -> new UsageException("the Observer API at " + target + " did not answer in time");
            case INVALID_ARGUMENT -> new UsageException("rejected by " + target + ": " + why);
            case UNIMPLEMENTED -> new UsageException(target + " does not implement this call: " + why);
            default -> new ServerFailure(target + ": " + s.getCode() + ": " + why);
        };
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage();
        int nl = m == null ? -1 : m.indexOf('\n');
        return m == null ? t.getClass().getSimpleName() : nl >= 0 ? m.substring(0, nl) : m;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    }

    /** A server-side failure (exit 1), printed as its message. */
    static final class ServerFailure extends RuntimeException {
        ServerFailure(String message) {
            super(message);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    record HostPort(String host, int port) {
        static HostPort parse(String s) {
            String v = s.trim();
            if (v.startsWith("http://")) v = v.substring(7);
            if (v.startsWith("https://")) throw new UsageException("--server " + s + ": give HOST:PORT and --tls");
            int colon = v.lastIndexOf(':');
            if (colon <= 0 || (v.indexOf(':') != colon && !v.startsWith("["))) {
                throw new UsageException("--server " + s + ": expected HOST:PORT, e.g. localhost:4245");
            }
            String host = v.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port;
            try {
                port = Integer.parseInt(v.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageException("--server " + s + ": port is not a number");
            }
            if (port < 1 || port > 65535) throw new UsageException("--server " + s + ": port must be within 1-65535");
            return new HostPort(host, port);
        }
    }
}
