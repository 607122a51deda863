package dev.sieve.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/** Reads PEM certificates and private keys (PKCS#8, PKCS#1 RSA, SEC1 EC), with errors that name the file. */
public final class PemFiles {
    private PemFiles() {}

    /** Every certificate in the files, in order; a file without one is an error. */
    public static List<X509Certificate> certificates(List<Path> files) throws IOException {
        List<X509Certificate> out = new ArrayList<>();
        for (Path f : files) out.addAll(certificates(f));
        return out;
    }

    public static List<X509Certificate> certificates(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certs = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) certs.add((X509Certificate) c);
            if (certs.isEmpty()) throw new IOException(file + ": no PEM certificate in it");
            return certs;
        } catch (CertificateException e) {
            throw new IOException(file + ": not a PEM certificate: " + e.getMessage(), e);
        }
    }

    public static PrivateKey privateKey(Path file) throws IOException {
        // PKCS#8 ("PRIVATE KEY", what certs generate writes) with the JDK alone: BouncyCastle is a large signed jar whose
        // classes take seconds to load on a busy machine, so it is only loaded for the older PKCS#1/SEC1 forms
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN PRIVATE KEY-----"), end = text.indexOf("-----END PRIVATE KEY-----");
        if (begin >= 0 && end > begin) {
            byte[] der;
            try {
                der = java.util.Base64.getMimeDecoder().decode(text.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": not a PEM private key: " + e.getMessage(), e);
            }
            for (String alg : new String[] {"EC", "RSA", "Ed25519", "RSASSA-PSS"}) {
                try {
                    return java.security.KeyFactory.getInstance(alg).generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
                } catch (java.security.GeneralSecurityException e) {
                    // not this algorithm
                }
            }
        }
        return privateKeyOtherForms(file);
    }

    private static PrivateKey privateKeyOtherForms(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            var converter = new JcaPEMKeyConverter();
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                if (o instanceof PrivateKeyInfo info) return converter.getPrivateKey(info);
                if (o instanceof PEMKeyPair pair) return converter.getKeyPair(pair).getPrivate();
            }
            throw new IOException(file + ": no unencrypted PEM private key in it");
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(file.toString()) ? e : new IOException(file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException(file + ": not a PEM private key: " + e.getMessage(), e);
        }
    }

    /** The PEM text of a certificate or key, as the generator writes it. */
    public static String pem(String type, byte[] der) {
        String b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }
}
