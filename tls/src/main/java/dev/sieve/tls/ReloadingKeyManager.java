package dev.sieve.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * This side's certificate chain and key from PEM files, read again when either file changes (new handshakes use the
 * new pair; a pair that does not load, e.g. half written, is logged and the previous one stays in use).
 */
public final class ReloadingKeyManager extends X509ExtendedKeyManager {
    private static final Logger LOG = Logger.getLogger(ReloadingKeyManager.class.getName());
    private static final String ALIAS = "sieve";

    private final Path certFile;
    private final Path keyFile;
    private final FileWatch watch;
    private volatile X509ExtendedKeyManager current;
    private volatile X509Certificate[] chain;

    public ReloadingKeyManager(Path certFile, Path keyFile) throws IOException {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.watch = new FileWatch(List.of(certFile, keyFile));
        load();
    }

    private void load() throws IOException {
        List<X509Certificate> certs = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        if (!certs.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm()))
            throw new IOException(keyFile + ": a " + key.getAlgorithm() + " key does not belong to the " + certs.get(0).getPublicKey().getAlgorithm()
                    + " certificate in " + certFile);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            X509Certificate[] c = certs.toArray(X509Certificate[]::new);
            ks.setKeyEntry(ALIAS, key, new char[0], c);
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            f.init(ks, new char[0]);
            current = (X509ExtendedKeyManager) f.getKeyManagers()[0];
            chain = c;
        } catch (GeneralSecurityException e) {
            throw new IOException(certFile + " / " + keyFile + ": " + e.getMessage(), e);
        }
    }

    private X509ExtendedKeyManager km() {
        if (watch.changed()) {
            try {
                load();
                LOG.info("TLS: reloaded " + certFile + " (" + chain[0].getSubjectX500Principal() + ", valid until " + chain[0].getNotAfter() + ")");
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "TLS: keeping the previous certificate: " + e.getMessage());
            }
        }
        return current;
    }

    /** The certificate in use (the first of the chain). */
    public X509Certificate certificate() {
        km();
        return chain[0];
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return km().getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return km().chooseClientAlias(keyType, null, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        // issuers ignored: a server that asks for a CA we were not issued by refuses us with a clear alert, not a silent empty certificate
        return km().chooseEngineClientAlias(keyType, null, engine);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return km().getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return km().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return km().chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return current.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return current.getPrivateKey(alias);
    }
}
