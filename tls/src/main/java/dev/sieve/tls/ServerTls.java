package dev.sieve.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A listener's TLS settings: its certificate and key, and the CAs whose client certificates it requires (empty: none required). */
public record ServerTls(Path certFile, Path keyFile, List<Path> clientCaFiles) {
    public ServerTls {
        if (certFile == null || keyFile == null) throw new IllegalArgumentException("TLS needs both a certificate file and a key file");
        clientCaFiles = clientCaFiles == null ? List.of() : List.copyOf(clientCaFiles);
    }

    public ReloadingKeyManager keyManager() throws IOException {
        return new ReloadingKeyManager(certFile, keyFile);
    }

    /** null when client certificates are not required. */
    public ReloadingTrustManager clientTrust() throws IOException {
        return clientCaFiles.isEmpty() ? null : new ReloadingTrustManager(clientCaFiles);
    }

    /** Comma-separated paths, as the flags take them. */
    public static List<Path> paths(String commaSeparated) {
        if (commaSeparated == null || commaSeparated.isBlank()) return List.of();
        return java.util.Arrays.stream(commaSeparated.split(",")).map(String::strip).filter(s -> !s.isEmpty()).map(Path::of).toList();
    }
}
