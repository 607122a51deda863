package dev.sieve.cli.observe;

import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.cli.Main;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A plaintext connection to an Observer API server (a node on 4244 or the relay on 4245), and the mapping
 * of gRPC failures to the CLI's exit codes: an unreachable server, a TLS/protocol mismatch or a rejected
 * request (INVALID_ARGUMENT) is the user's input (exit 2); anything else is a failure (exit 1).
 */
final class ObserverClient implements AutoCloseable {

    static final String DEFAULT_SERVER = "localhost:4245";

    static {
        // A short-lived client needs neither Netty's native transports nor sun.misc.Unsafe (which the JDK warns
        // about on stderr); and gRPC's INFO logging is noise on a terminal.
        System.setProperty("io.grpc.netty.shaded.io.netty.noUnsafe", "true");
        System.setProperty("io.grpc.netty.shaded.io.netty.transport.noNative", "true");
        java.util.logging.Logger.getLogger("io.grpc").setLevel(java.util.logging.Level.WARNING);
    }

    /** Keeps the logger configured above from being garbage-collected (JUL holds loggers weakly). */
    private static final java.util.logging.Logger GRPC_LOGGER = java.util.logging.Logger.getLogger("io.grpc");

    private final String target;
    private final ManagedChannel channel;
    private final NioEventLoopGroup group;

    ObserverClient(String server) {
        this.target = server;
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
            throw new Main.UsageException("cannot reach the Observer API at " + server + ": unknown host " + hp.host);
        }
        this.channel = NettyChannelBuilder.forAddress(address)
                .usePlaintext()
                .channelType(NioSocketChannel.class)
                .eventLoopGroup(group)
                .maxInboundMessageSize(64 << 20)
                .build();
    }

    ObserverGrpc.ObserverBlockingStub blocking() {
        return ObserverGrpc.newBlockingStub(channel);
    }

    ObserverGrpc.ObserverBlockingStub blocking(long timeoutSeconds) {
        return ObserverGrpc.newBlockingStub(channel).withDeadlineAfter(timeoutSeconds, TimeUnit.SECONDS);
    }

    /** The one-line error for a failed call, as an exception Main prints without a stack trace. */
    RuntimeException failure(StatusRuntimeException e) {
        Status s = e.getStatus();
        String why = s.getDescription() != null ? s.getDescription() : s.getCode().toString();
        if (s.getCause() != null && s.getCause().getMessage() != null) why = rootMessage(s.getCause());
        return switch (s.getCode()) {
            case UNAVAILABLE -> new Main.UsageException("cannot reach the Observer API at " + target + ": " + why
                    + " (is the server running, and plaintext? use --server HOST:PORT)");
            case DEADLINE_EXCEEDED -> new Main.UsageException("the Observer API at " + target + " did not answer in time");
            case INVALID_ARGUMENT -> new Main.UsageException("rejected by " + target + ": " + why);
            case UNIMPLEMENTED -> new Main.UsageException(target + " does not implement this call: " + why);
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
            if (v.startsWith("https://")) throw new Main.UsageException("--server " + s + ": TLS is not supported by this client yet; use HOST:PORT of a plaintext server");
            int colon = v.lastIndexOf(':');
            if (colon <= 0 || (v.indexOf(':') != colon && !v.startsWith("["))) {
                throw new Main.UsageException("--server " + s + ": expected HOST:PORT, e.g. localhost:4245");
            }
            String host = v.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            int port;
            try {
                port = Integer.parseInt(v.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new Main.UsageException("--server " + s + ": port is not a number");
            }
            if (port < 1 || port > 65535) throw new Main.UsageException("--server " + s + ": port must be within 1-65535");
            return new HostPort(host, port);
        }
    }
}
