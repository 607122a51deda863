package dev.sieve.agent.fqdn;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FqdnCacheTest {

    static final String EP = "10.244.3.10";

    @TempDir
    Path dir;

    @Test
    void ttlHasTheMinimumAndExpiryKeepsWhatALiveConnectionUses() {
        FqdnCache c = new FqdnCache(60, 50, 1000);
        c.learn(EP, "a.example.com", List.of("198.51.100.1"), 5, 0); // 5 s answered, 60 s minimum
        c.learn(EP, "b.example.com", List.of("198.51.100.2"), 120, 0);
        assertThat(c.list()).extracting(FqdnCache.Entry::expiresAt).containsExactly(60_000L, 120_000L);
        assertThat(c.expire(59_999, e -> false).removed()).isEmpty();
        FqdnCache.Change gone = c.expire(60_000, e -> false);
        assertThat(gone.removed()).extracting(FqdnCache.Entry::address).containsExactly("198.51.100.1");
        FqdnCache.Change kept = c.expire(200_000, e -> true);
        assertThat(kept.removed()).isEmpty();
        assertThat(c.list()).extracting(FqdnCache.Entry::source).containsExactly(FqdnCache.SOURCE_CONNECTION);
        assertThat(c.expire(200_001, e -> false).removed()).hasSize(1);
        assertThat(c.size()).isZero();
    }

    @Test
    void aNameKeepsAtMostItsBoundOfAddressesTheSoonestToExpireGoFirst() {
        FqdnCache c = new FqdnCache(0, 3, 1000);
        c.learn(EP, "x.example.com", List.of("10.0.0.1"), 10, 0);
        c.learn(EP, "x.example.com", List.of("10.0.0.2"), 20, 0);
        c.learn(EP, "x.example.com", List.of("10.0.0.3"), 30, 0);
        FqdnCache.Change ch = c.learn(EP, "x.example.com", List.of("10.0.0.4"), 40, 0);
        assertThat(ch.added()).extracting(FqdnCache.Entry::address).containsExactly("10.0.0.4");
        assertThat(ch.removed()).extracting(FqdnCache.Entry::address).containsExactly("10.0.0.1");
        assertThat(c.list()).extracting(FqdnCache.Entry::address).containsExactly("10.0.0.2", "10.0.0.3", "10.0.0.4");
        // another endpoint's addresses for the same name are its own
        c.learn("10.244.3.20", "x.example.com", List.of("10.0.0.9"), 5, 0);
        assertThat(c.size()).isEqualTo(4);
    }

    @Test
    void aFloodOfDistinctNamesStaysWithinTheTotalBound() {
        FqdnCache c = new FqdnCache(0, 50, 10_000);
        long t0 = System.nanoTime();
        int removed = 0;
        for (int i = 0; i < 100_000; i++) {
            FqdnCache.Change ch = c.learn(EP, "f" + i + ".amazonaws.com", List.of("203.0." + ((i >> 8) & 0xFF) + "." + (i & 0xFF)), 30 + i, i);
            removed += ch.removed().size();
            assertThat(c.size()).isLessThanOrEqualTo(10_000);
        }
        assertThat(c.size()).isEqualTo(10_000);
        assertThat(removed).isEqualTo(90_000);
        assertThat(c.list()).allSatisfy(e -> assertThat(Integer.parseInt(e.name().substring(1, e.name().indexOf('.')))).isGreaterThanOrEqualTo(90_000));
        System.out.printf("flood: 100,000 names into a 10,000 bound in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void savedAndLoadedAlikeAndBadLinesAreSkipped() throws Exception {
        FqdnCache c = new FqdnCache(0, 50, 1000);
        c.learn(EP, "s3.amazonaws.com", List.of("198.51.100.1", "2001:db8::1"), 30, 1000);
        Path f = dir.resolve("state/fqdn-cache.tsv");
        c.save(f);
        List<String> lines = new ArrayList<>(Files.readAllLines(f));
        lines.add("garbage");
        lines.add("10.0.0.1\tx\tnot-an-ip\t1\t2\tlookup");
        Files.write(f, lines);
        FqdnCache d = new FqdnCache(0, 50, 1000);
        assertThat(d.load(f)).isEqualTo(2);
        assertThat(d.list()).isEqualTo(c.list());
        assertThat(new FqdnCache(0, 50, 1000).load(dir.resolve("missing.tsv"))).isZero();
    }

    @Test
    void optionsParseCiliumsFlags() {
        FqdnOptions o = FqdnOptions.defaults("node");
        assertThat(o.minTtlSeconds()).isZero();
        assertThat(o.maxIpsPerHostname()).isEqualTo(50);
        assertThat(o.stateFile()).isEqualTo(Path.of("/run/sieve/node/fqdn-cache.tsv"));
        o = FqdnOptions.with(o, "--tofqdns-min-ttl", "3600");
        assertThat(o.minTtlSeconds()).isEqualTo(3600);
        assertThat(FqdnOptions.with(o, "--tofqdns-dns-reject-response-code", "nameError").rejectCode()).isEqualTo("nameError");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FqdnOptions.with(FqdnOptions.defaults("n"), "--tofqdns-endpoint-max-ip-per-hostname", "0"))
                .hasMessageContaining("--tofqdns-endpoint-max-ip-per-hostname must be 1 or more");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.sieve.agent.AgentOptions.parse(new String[] {"--node-name", "n", "--manifests", "/x",
                "--tofqdns-dns-reject-response-code", "drop"}, java.util.Map.of())).hasMessageContaining("must be refused or nameError: drop");
        assertThat(dev.sieve.agent.AgentOptions.parse(new String[] {"--node-name", "n", "--manifests", "/x", "--tofqdns-min-ttl", "5"}, java.util.Map.of())
                .fqdn().minTtlSeconds()).isEqualTo(5);
    }
}
