package dev.sieve.observer.tls;

import dev.sieve.tls.ClientTls;
import dev.sieve.tls.ReloadingTrustManager;
import dev.sieve.tls.ServerTls;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.io.IOException;

/**
 * Netty SSL contexts (gRPC's shaded Netty) from {@link ServerTls}/{@link ClientTls}. Key and trust managers read their
 * PEM files again when they change, so a context built once serves renewed certificates without a restart.
 */
public final class GrpcTls {
    private GrpcTls() {}

    public static SslContext server(ServerTls tls) throws IOException {
        SslContextBuilder b = SslContextBuilder.forServer(tls.keyManager());
        ReloadingTrustManager clients = tls.clientTrust();
        if (clients != null) b.trustManager(clients).clientAuth(ClientAuth.REQUIRE);
        return GrpcSslContexts.configure(b, provider()).build();
    }

    /** BoringSSL (bundled with grpc-netty-shaded) when it loads: a multiple of the JDK's TLS throughput; else the JDK. */
    static SslProvider provider() {
        return io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    public static SslContext client(ClientTls tls) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient();
        var trust = tls.trustManager();
        if (trust != null) b.trustManager(trust);
        var keys = tls.keyManager();
        if (keys != null) b.keyManager(keys);
        return GrpcSslContexts.configure(b, provider()).build();
    }
}
