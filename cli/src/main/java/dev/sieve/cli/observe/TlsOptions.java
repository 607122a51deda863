package dev.sieve.cli.observe;

import dev.sieve.tls.ClientTls;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** hubble's client TLS flags, for every command that talks to an Observer API; each also an env var (SIEVE_TLS, ...). */
public final class TlsOptions {
    @Option(names = "--tls", defaultValue = "${env:SIEVE_TLS:-false}", fallbackValue = "true", arity = "0..1",
            description = "Use TLS to talk to the server (implied by the other --tls-* flags but --tls-server-name).")
    boolean tls;
    @Option(names = "--tls-allow-insecure", defaultValue = "${env:SIEVE_TLS_ALLOW_INSECURE:-false}", fallbackValue = "true", arity = "0..1",
            description = "Do not check the server's certificate (encrypted, not authenticated).")
    boolean allowInsecure;
    @Option(names = "--tls-ca-cert-files", paramLabel = "FILE", split = ",", defaultValue = "${env:SIEVE_TLS_CA_CERT_FILES}",
            description = "CA certificates (PEM) to trust for the server's certificate (default: the JDK's roots).")
    List<Path> caFiles;
    @Option(names = "--tls-client-cert-file", paramLabel = "FILE", defaultValue = "${env:SIEVE_TLS_CLIENT_CERT_FILE}",
            description = "Client certificate (PEM), for servers that require one.")
    Path clientCert;
    @Option(names = "--tls-client-key-file", paramLabel = "FILE", defaultValue = "${env:SIEVE_TLS_CLIENT_KEY_FILE}",
            description = "The client certificate's private key (PEM).")
    Path clientKey;
    @Option(names = "--tls-server-name", paramLabel = "NAME", defaultValue = "${env:SIEVE_TLS_SERVER_NAME}",
            description = "The name the server's certificate must carry (default: the host of --server).")
    String serverName;

    /** null: plaintext. */
    public ClientTls clientTls() {
        boolean on = tls || allowInsecure || (caFiles != null && !caFiles.isEmpty()) || clientCert != null || clientKey != null;
        if (!on) return null;
        if ((clientCert == null) != (clientKey == null))
            throw new dev.sieve.cli.UsageException("--tls-client-cert-file and --tls-client-key-file go together");
        return new ClientTls(caFiles, clientCert, clientKey, serverName, allowInsecure);
    }
}
