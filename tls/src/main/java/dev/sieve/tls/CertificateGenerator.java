package dev.sieve.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * What {@code sieve certs generate} writes, as Cilium's certgen does for Hubble: one CA, and certificates it signs
 * (ECDSA P-256, SHA-256):
 * <pre>
 *   ca.crt ca.key                  the CA (keep ca.key offline; ca.crt is what every side trusts)
 *   relay.crt relay.key            the relay's server certificate (CN and DNS name RELAY_NAME, also localhost, 127.0.0.1, ::1)
 *   nodes/NODE.crt nodes/NODE.key  one per node: CN NODE (the name it may push as), server and client use
 *   client.crt client.key          an Observer client (sieve observe, hubble observe) where client certificates are required
 * </pre>
 * Files are written to a temporary name and renamed, so a running relay or agent reloads whole files only. A CA
 * already in the folder (ca.crt and ca.key) is kept and signs the new certificates: running it again renews them.
 */
public final class CertificateGenerator {
    public record Options(Path out, String relayName, List<String> nodes, Duration validity, List<String> extraNames) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair caKey;
    private final X509Certificate ca;
    private final Duration validity;

    private CertificateGenerator(KeyPair caKey, X509Certificate ca, Duration validity) {
        this.caKey = caKey;
        this.ca = ca;
        this.validity = validity;
    }

    /** A new CA with this common name. */
    public static CertificateGenerator newCa(String name, Duration validity) throws IOException {
        try {
            KeyPair kp = keyPair();
            X500Name subject = name(name);
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(300)),
                    Date.from(now.plus(validity)), subject, kp.getPublic());
            var ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new CertificateGenerator(kp, sign(b, kp.getPrivate()), validity);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /** Issues with an existing CA (renewals keep what trusts it). */
    public static CertificateGenerator withCa(X509Certificate ca, PrivateKey caKey, Duration validity) {
        return new CertificateGenerator(new KeyPair(ca.getPublicKey(), caKey), ca, validity);
    }

    public X509Certificate ca() {
        return ca;
    }

    public PrivateKey caKey() {
        return caKey.getPrivate();
    }

    /** A certificate for {@code name} (the CN and first DNS name), with more DNS names or IP addresses. */
    public Issued issue(String name, List<String> moreNames, boolean server, boolean client) throws IOException {
        try {
            KeyPair kp = keyPair();
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minusSeconds(300)),
                    Date.from(now.plus(validity)), name(name), kp.getPublic());
            var ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            List<KeyPurposeId> purposes = new ArrayList<>();
            if (server) purposes.add(KeyPurposeId.id_kp_serverAuth);
            if (client) purposes.add(KeyPurposeId.id_kp_clientAuth);
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(KeyPurposeId[]::new)));
            List<GeneralName> sans = new ArrayList<>();
            for (String n : concat(name, moreNames)) sans.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new Issued(sign(b, caKey.getPrivate()), kp.getPrivate());
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IOException("cannot issue a certificate for " + name + ": " + e.getMessage(), e);
        }
    }

    public record Issued(X509Certificate certificate, PrivateKey key) {
        public void write(Path certFile, Path keyFile) throws IOException {
            try {
                writeAtomically(certFile, PemFiles.pem("CERTIFICATE", certificate.getEncoded()), false);
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IOException(e);
            }
            writeAtomically(keyFile, PemFiles.pem("PRIVATE KEY", key.getEncoded()), true);
        }
    }

    /** Writes the whole set (see the class comment); the names of the files written, in order. */
    public static List<Path> generate(Options o) throws IOException {
        if (o.relayName() == null || o.relayName().isBlank()) throw new IllegalArgumentException("--relay-name: a name is needed");
        for (String n : o.nodes())
            if (!n.matches("[A-Za-z0-9]([A-Za-z0-9._-]{0,252})"))
                throw new IllegalArgumentException("--nodes: \"" + n + "\" is not a node name (letters, digits, '.', '_', '-')");
        Files.createDirectories(o.out().resolve("nodes"));
        Path caCrt = o.out().resolve("ca.crt"), caKeyFile = o.out().resolve("ca.key");
        // an existing CA is kept (as certgen keeps its secret): renewed certificates stay trusted everywhere
        CertificateGenerator g = Files.isRegularFile(caCrt) && Files.isRegularFile(caKeyFile)
                ? withCa(PemFiles.certificates(caCrt).get(0), PemFiles.privateKey(caKeyFile), o.validity())
                : newCa("Sieve CA", o.validity());
        List<Path> written = new ArrayList<>();
        try {
            writeAtomically(o.out().resolve("ca.crt"), PemFiles.pem("CERTIFICATE", g.ca.getEncoded()), false);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IOException(e);
        }
        writeAtomically(o.out().resolve("ca.key"), PemFiles.pem("PRIVATE KEY", g.caKey().getEncoded()), true);
        written.add(o.out().resolve("ca.crt"));
        written.add(o.out().resolve("ca.key"));
        List<String> local = new ArrayList<>(List.of("localhost", "127.0.0.1", "::1"));
        local.addAll(o.extraNames());
        g.issue(o.relayName(), local, true, true).write(o.out().resolve("relay.crt"), o.out().resolve("relay.key"));
        written.add(o.out().resolve("relay.crt"));
        written.add(o.out().resolve("relay.key"));
        for (String n : o.nodes()) {
            Path c = o.out().resolve("nodes").resolve(n + ".crt"), k = o.out().resolve("nodes").resolve(n + ".key");
            g.issue(n, local, true, true).write(c, k);
            written.add(c);
            written.add(k);
        }
        g.issue("sieve-client", List.of(), false, true).write(o.out().resolve("client.crt"), o.out().resolve("client.key"));
        written.add(o.out().resolve("client.crt"));
        written.add(o.out().resolve("client.key"));
        return written;
    }

    static void writeAtomically(Path file, String text, boolean secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            if (secret) Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.writeString(tmp, text, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        for (String r : rest) if (!all.contains(r)) all.add(r);
        return all;
    }

    private static boolean isAddress(String s) {
        if (!s.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) return false;
        try {
            InetAddress.getByName(s);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X500Name name(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Sieve").addRDN(BCStyle.CN, cn).build();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }
}
