package dev.sieve.observer.server;

import dev.sieve.observer.buffer.FlowRing;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** The node's Observer gRPC server (plaintext); default address 127.0.0.1:4244, port 0 picks a free port. */
public final class ObserverServer implements AutoCloseable {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 4244;

    private final Server server;
    private final ObserverService service;

    private ObserverServer(Server server, ObserverService service) {
        this.server = server;
        this.service = service;
    }

    public static ObserverServer start(InetSocketAddress address, FlowRing ring, String nodeName, String version) throws IOException {
        ObserverService service = new ObserverService(ring, nodeName, version, address.getHostString() + ":" + address.getPort());
        Server server = NettyServerBuilder.forAddress(address).addService(service).build().start();
        return new ObserverServer(server, service);
    }

    public int port() {
        return server.getPort();
    }

    public ObserverService service() {
        return service;
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
