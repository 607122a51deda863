package dev.sieve.relay.tls;

import dev.sieve.tls.ReloadingKeyManager;
import dev.sieve.tls.ReloadingTrustManager;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.quarkus.grpc.api.ServerBuilderCustomizer;
import io.quarkus.grpc.runtime.config.GrpcServerConfiguration;
import io.vertx.grpc.VertxServerBuilder;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * TLS on the relay's gRPC listener (:4245), from {@code sieve.relay.tls.cert-file}/{@code key-file} (PEM, reloaded when
 * they change). Client certificates are asked for (not required at the handshake) when
 * {@code sieve.relay.tls.client-ca-files} (Observer clients) or {@code sieve.relay.ingest.client-ca-files} (nodes)
 * is set; a certificate of neither CA fails the handshake, and {@link PeerAuthentication} requires the right one per
 * service.
 */
@ApplicationScoped
public class RelayTls implements ServerBuilderCustomizer<VertxServerBuilder> {
    private static final Logger LOG = Logger.getLogger(RelayTls.class);

    @ConfigProperty(name = "sieve.relay.tls.cert-file") Optional<Path> certFile;
    @ConfigProperty(name = "sieve.relay.tls.key-file") Optional<Path> keyFile;
    @ConfigProperty(name = "sieve.relay.tls.client-ca-files") Optional<List<Path>> clientCaFiles;
    @ConfigProperty(name = "sieve.relay.ingest.client-ca-files") Optional<List<Path>> ingestCaFiles;

    private volatile Material material;

    /** What the listener uses; null trust managers mean "not required". */
    public record Material(ReloadingKeyManager keys, ReloadingTrustManager observerClients, ReloadingTrustManager ingestClients) {}

    public synchronized Material material() {
        if (material != null) return material;
        boolean cert = certFile.isPresent(), key = keyFile.isPresent();
        if (cert != key) throw new IllegalArgumentException("sieve.relay.tls: --tls-cert-file and --tls-key-file go together");
        boolean anyCa = clientCaFiles.filter(l -> !l.isEmpty()).isPresent() || ingestCaFiles.filter(l -> !l.isEmpty()).isPresent();
        if (!cert && anyCa)
            throw new IllegalArgumentException("sieve.relay.tls: client CA files need the relay's own certificate (--tls-cert-file, --tls-key-file)");
        try {
            material = new Material(cert ? new ReloadingKeyManager(certFile.get(), keyFile.get()) : null,
                    trust(clientCaFiles), trust(ingestCaFiles));
        } catch (IOException e) {
            throw new UncheckedIOException("sieve.relay.tls: " + e.getMessage(), e);
        }
        return material;
    }

    private static ReloadingTrustManager trust(Optional<List<Path>> files) throws IOException {
        return files.isEmpty() || files.get().isEmpty() ? null : new ReloadingTrustManager(files.get());
    }

    /**
     * BoringSSL (netty-tcnative) when it loads: its AES-GCM uses AES-NI and its record layer copies less than the JDK's
     * SSLEngine (mTLS ingest 0.89 of plaintext with the JDK provider); the JDK's provider otherwise, or with
     * {@code -Dsieve.relay.tls.provider=jdk}.
     */
    static SslProvider provider() {
        if ("jdk".equalsIgnoreCase(System.getProperty("sieve.relay.tls.provider", ""))) return SslProvider.JDK;
        try {
            if (io.netty.handler.ssl.OpenSsl.isAvailable() && io.netty.handler.ssl.OpenSsl.supportsKeyManagerFactory()) return SslProvider.OPENSSL;
            LOG.infof("gRPC: BoringSSL not available (%s): the JDK's TLS", io.netty.handler.ssl.OpenSsl.unavailabilityCause());
        } catch (LinkageError e) {
            LOG.infof("gRPC: BoringSSL not available (%s): the JDK's TLS", e);
        }
        return SslProvider.JDK;
    }

    @Override
    public void customize(GrpcServerConfiguration config, VertxServerBuilder builder) {
        Material m = material();
        if (m.keys() == null) return;
        if (!((Object) builder instanceof VertxServerBuilder vertx))
            throw new IllegalStateException("sieve.relay.tls: the gRPC server is not the separate Vert.x server (quarkus.grpc.server.use-separate-server=true)");
        try {
            SslContextBuilder ssl = SslContextBuilder.forServer(m.keys());
            List<ReloadingTrustManager> trusts = new ArrayList<>();
            if (m.observerClients() != null) trusts.add(m.observerClients());
            if (m.ingestClients() != null) trusts.add(m.ingestClients());
            if (!trusts.isEmpty()) ssl.trustManager(ReloadingTrustManager.anyOf(trusts)).clientAuth(ClientAuth.OPTIONAL);
            SslProvider provider = provider();
            vertx.nettyBuilder().sslContext(GrpcSslContexts.configure(ssl, provider).build());
            LOG.infof("gRPC: TLS provider %s", provider);
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("sieve.relay.tls: " + e.getMessage(), e);
        }
        LOG.infof("gRPC: TLS with %s%s%s", certFile.get(), m.observerClients() == null ? "" : ", Observer clients must present a certificate of "
                + m.observerClients().files(), m.ingestClients() == null ? "" : ", nodes must present a certificate of " + m.ingestClients().files());
    }
}
