package dev.sieve.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts the CA certificates of PEM files (and nothing else: not the JDK's default roots), read again when a file
 * changes. Host names are not checked here; the gRPC transports check the server name.
 */
public final class ReloadingTrustManager extends X509ExtendedTrustManager {
    private static final Logger LOG = Logger.getLogger(ReloadingTrustManager.class.getName());

    private final List<Path> files;
    private final FileWatch watch;
    private volatile X509ExtendedTrustManager current;

    public ReloadingTrustManager(List<Path> files) throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no CA files");
        this.files = List.copyOf(files);
        this.watch = new FileWatch(files);
        load();
    }

    private void load() throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : PemFiles.certificates(files)) ks.setCertificateEntry("ca-" + i++, c);
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(ks);
            current = (X509ExtendedTrustManager) f.getTrustManagers()[0];
        } catch (GeneralSecurityException e) {
            throw new IOException(files + ": " + e.getMessage(), e);
        }
    }

    private X509ExtendedTrustManager tm() {
        if (watch.changed()) {
            try {
                load();
                LOG.info("TLS: reloaded the CA files " + files);
            } catch (IOException | RuntimeException e) {
                LOG.log(Level.WARNING, "TLS: keeping the previous CA certificates: " + e.getMessage());
            }
        }
        return current;
    }

    public List<Path> files() {
        return files;
    }

    /** Throws unless the chain was issued by one of the CAs (used to tell which of several CA sets issued a peer). */
    public void checkClient(X509Certificate[] chain) throws CertificateException {
        tm().checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        tm().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        tm().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        tm().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        tm().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        tm().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        tm().checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return tm().getAcceptedIssuers();
    }

    /** Trusts what any of the managers trusts (one listener that serves peers of several CAs). */
    public static X509ExtendedTrustManager anyOf(List<ReloadingTrustManager> managers) {
        return new X509ExtendedTrustManager() {
            private void check(Check c) throws CertificateException {
                CertificateException last = null;
                for (ReloadingTrustManager m : managers) {
                    try {
                        c.run(m);
                        return;
                    } catch (CertificateException e) {
                        last = e;
                    }
                }
                throw last != null ? last : new CertificateException("no trusted CA");
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
                check(m -> m.checkClientTrusted(chain, authType, s));
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) throws CertificateException {
                check(m -> m.checkServerTrusted(chain, authType, s));
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
                check(m -> m.checkClientTrusted(chain, authType, e));
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) throws CertificateException {
                check(m -> m.checkServerTrusted(chain, authType, e));
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(m -> m.checkClientTrusted(chain, authType));
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(m -> m.checkServerTrusted(chain, authType));
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return managers.stream().flatMap(m -> java.util.Arrays.stream(m.getAcceptedIssuers())).toArray(X509Certificate[]::new);
            }
        };
    }

    private interface Check {
        void run(ReloadingTrustManager m) throws CertificateException;
    }
}
