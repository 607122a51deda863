package dev.sieve.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateGeneratorTest {
    @TempDir Path dir;

    private CertificateGenerator.Options opts(Path out) {
        return new CertificateGenerator.Options(out, "relay.sieve", List.of("node-a", "node-b"), Duration.ofDays(365), List.of());
    }

    @Test
    void writesACaAndCertificatesItIssuedNamedAfterTheirNodes() throws Exception {
        CertificateGenerator.generate(opts(dir));
        var trust = new ReloadingTrustManager(List.of(dir.resolve("ca.crt")));
        for (String n : List.of("node-a", "node-b")) {
            var km = new ReloadingKeyManager(dir.resolve("nodes/" + n + ".crt"), dir.resolve("nodes/" + n + ".key"));
            trust.checkClient(new X509Certificate[] {km.certificate()});
            assertThat(PeerName.of(km.certificate())).isEqualTo(n);
        }
        var relay = new ReloadingKeyManager(dir.resolve("relay.crt"), dir.resolve("relay.key"));
        assertThat(PeerName.of(relay.certificate())).isEqualTo("relay.sieve");
        assertThat(relay.certificate().getSubjectAlternativeNames().stream().map(l -> String.valueOf(l.get(1))).toList()).contains("relay.sieve", "localhost", "127.0.0.1");
        assertThat(Files.getPosixFilePermissions(dir.resolve("relay.key")).toString()).isEqualTo("[OWNER_READ, OWNER_WRITE]");
        assertThat(Files.list(dir)).noneMatch(p -> p.getFileName().toString().endsWith(".tmp"));
    }

    @Test
    void anotherCasCertificateIsNotTrusted() throws Exception {
        CertificateGenerator.generate(opts(dir.resolve("one")));
        CertificateGenerator.generate(opts(dir.resolve("two")));
        var trust = new ReloadingTrustManager(List.of(dir.resolve("one/ca.crt")));
        var foreign = new ReloadingKeyManager(dir.resolve("two/nodes/node-a.crt"), dir.resolve("two/nodes/node-a.key"));
        assertThatThrownBy(() -> trust.checkClient(new X509Certificate[] {foreign.certificate()})).isInstanceOf(CertificateException.class);
    }

    @Test
    void filesAreReadAgainWhenTheyChange() throws Exception {
        CertificateGenerator.generate(opts(dir));
        var km = new ReloadingKeyManager(dir.resolve("relay.crt"), dir.resolve("relay.key"));
        var trust = new ReloadingTrustManager(List.of(dir.resolve("ca.crt")));
        var before = km.certificate();
        Thread.sleep(10);
        Files.delete(dir.resolve("ca.key"));
        CertificateGenerator.generate(opts(dir)); // a new CA and new certificates in the same files
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (km.certificate().equals(before) && System.nanoTime() < deadline) Thread.sleep(50);
        assertThat(km.certificate()).isNotEqualTo(before);
        trust.getAcceptedIssuers(); // triggers the reload check
        Thread.sleep(600);
        trust.checkClient(new X509Certificate[] {km.certificate()});
        assertThatThrownBy(() -> trust.checkClient(new X509Certificate[] {before})).isInstanceOf(CertificateException.class);
    }

    @Test
    void runningItAgainKeepsTheCaAndRenewsTheCertificates() throws Exception {
        CertificateGenerator.generate(opts(dir));
        var first = new ReloadingKeyManager(dir.resolve("nodes/node-a.crt"), dir.resolve("nodes/node-a.key")).certificate();
        String ca = Files.readString(dir.resolve("ca.crt"));
        CertificateGenerator.generate(opts(dir));
        var second = new ReloadingKeyManager(dir.resolve("nodes/node-a.crt"), dir.resolve("nodes/node-a.key")).certificate();
        assertThat(Files.readString(dir.resolve("ca.crt"))).isEqualTo(ca);
        assertThat(second).isNotEqualTo(first);
        new ReloadingTrustManager(List.of(dir.resolve("ca.crt"))).checkClient(new X509Certificate[] {first});
        new ReloadingTrustManager(List.of(dir.resolve("ca.crt"))).checkClient(new X509Certificate[] {second});
    }

    @Test
    void badFilesAreNamedInTheError() throws Exception {
        Files.writeString(dir.resolve("bad.crt"), "not a certificate");
        Files.writeString(dir.resolve("bad.key"), "not a key");
        assertThatThrownBy(() -> new ReloadingTrustManager(List.of(dir.resolve("bad.crt")))).hasMessageContaining("bad.crt");
        CertificateGenerator.generate(opts(dir));
        assertThatThrownBy(() -> new ReloadingKeyManager(dir.resolve("relay.crt"), dir.resolve("bad.key"))).hasMessageContaining("bad.key");
        assertThatThrownBy(() -> CertificateGenerator.generate(new CertificateGenerator.Options(dir, "r", List.of("bad name"), Duration.ofDays(1), List.of())))
                .hasMessageContaining("bad name");
    }
}
