package dev.sieve.cli.observe;

import dev.sieve.cli.UsageException;
import dev.sieve.tls.ClientTls;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

/** Plaintext or TLS for an Observer API channel: the one place the CLI's transport security is decided. */
final class ObserverChannels {
    private ObserverChannels() {}

    static NettyChannelBuilder secure(NettyChannelBuilder b, ClientTls tls, String host) {
        if (tls == null) return b.usePlaintext();
        try {
            var ssl = io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder.forClient();
            var trust = tls.trustManager();
            if (trust != null) ssl.trustManager(trust);
            var keys = tls.keyManager();
            if (keys != null) ssl.keyManager(keys);
            b.sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.configure(ssl,
                    io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider.JDK).build());
        } catch (java.io.IOException e) {
            throw new UsageException("TLS: " + e.getMessage());
        }
        // a resolved address carries no name: the certificate is checked against --tls-server-name, else the host given
        return b.overrideAuthority(tls.serverName() != null && !tls.serverName().isEmpty() ? tls.serverName() : host);
    }
}
