package dev.sieve.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client's TLS settings, hubble's flags: trust {@code caFiles} (empty: the JDK's default roots), present
 * {@code certFile}/{@code keyFile} when set (mTLS), expect {@code serverName} in the server's certificate (null: the
 * host dialled), or {@code allowInsecure}: encrypt without checking the server.
 */
public record ClientTls(List<Path> caFiles, Path certFile, Path keyFile, String serverName, boolean allowInsecure) {
    public ClientTls {
        caFiles = caFiles == null ? List.of() : List.copyOf(caFiles);
        if ((certFile == null) != (keyFile == null)) throw new IllegalArgumentException("a client certificate needs its key file, and the other way round");
    }

    /** null: the JDK's default trust. */
    public X509ExtendedTrustManager trustManager() throws IOException {
        if (allowInsecure) return InsecureTrustManager.INSTANCE;
        return caFiles.isEmpty() ? null : new ReloadingTrustManager(caFiles);
    }

    /** null: no client certificate. */
    public ReloadingKeyManager keyManager() throws IOException {
        return certFile == null ? null : new ReloadingKeyManager(certFile, keyFile);
    }
}
