package dev.sieve.observer.server;

import dev.sieve.api.observer.ObserverGrpc;
import dev.sieve.observer.buffer.FlowRing;
import dev.sieve.observer.events.AgentEventHub;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The node's Observer gRPC server (plaintext, or TLS/mTLS); default address 127.0.0.1:4244, port 0 picks a free port. Beside
 * {@code observer.Observer} it serves the standard {@code grpc.health.v1.Health} (what {@code hubble status} asks
 * first): SERVING for the server (""), {@code observer.Observer} and {@code hubble.server.Observer} (the name Hubble
 * registers and {@code hubble status} checks) while it runs, NOT_SERVING once closing.
 */
public final class ObserverServer implements AutoCloseable {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 4244;
    /** The name Hubble's server registers its health under, and what {@code hubble status} checks. */
    public static final String HUBBLE_SERVICE_NAME = "hubble.server.Observer";

    private final Server server;
    private final ObserverService service;
    private final HealthStatusManager health;

    private ObserverServer(Server server, ObserverService service, HealthStatusManager health) {
        this.server = server;
        this.service = service;
        this.health = health;
    }

    public static ObserverServer start(InetSocketAddress address, FlowRing ring, String nodeName, String version) throws IOException {
        return start(address, ring, new AgentEventHub(nodeName), nodeName, version);
    }

    public static ObserverServer start(InetSocketAddress address, FlowRing ring, AgentEventHub agentEvents, String nodeName,
                                       String version) throws IOException {
        return start(address, ring, agentEvents, nodeName, version, null);
    }

    /** With {@code tls} (null: plaintext): TLS, and client certificates of its CAs required when it names any. */
    public static ObserverServer start(InetSocketAddress address, FlowRing ring, AgentEventHub agentEvents, String nodeName,
                                       String version, dev.sieve.tls.ServerTls tls) throws IOException {
        ObserverService service = new ObserverService(ring, agentEvents, nodeName, version, address.getHostString() + ":" + address.getPort());
        HealthStatusManager health = new HealthStatusManager();
        NettyServerBuilder builder = NettyServerBuilder.forAddress(address).addService(service).addService(health.getHealthService());
        if (tls != null) builder.sslContext(dev.sieve.observer.tls.GrpcTls.server(tls));
        Server server = builder.build().start();
        health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
        health.setStatus(ObserverGrpc.SERVICE_NAME, ServingStatus.SERVING);
        health.setStatus(HUBBLE_SERVICE_NAME, ServingStatus.SERVING);
        return new ObserverServer(server, service, health);
    }

    public int port() {
        return server.getPort();
    }

    public ObserverService service() {
        return service;
    }

    @Override
    public void close() throws InterruptedException {
        health.enterTerminalState();
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
