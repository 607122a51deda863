package dev.sieve.tls;

import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/** Trusts any server certificate: hubble's {@code --tls-allow-insecure} (encrypted, not authenticated). */
public final class InsecureTrustManager extends X509ExtendedTrustManager {
    public static final InsecureTrustManager INSTANCE = new InsecureTrustManager();

    private InsecureTrustManager() {}

    @Override public void checkClientTrusted(X509Certificate[] c, String a, Socket s) {}
    @Override public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {}
    @Override public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {}
    @Override public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {}
    @Override public void checkClientTrusted(X509Certificate[] c, String a) {}
    @Override public void checkServerTrusted(X509Certificate[] c, String a) {}
    @Override public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
}
