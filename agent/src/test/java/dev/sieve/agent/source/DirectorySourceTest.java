package dev.sieve.agent.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.policy.cluster.Namespace;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manifest watcher on a real directory (inotify): what the agent hears after each kind of edit. */
class DirectorySourceTest {

    @TempDir
    Path dir;
    DirectorySource source;
    /** Every delivery in order: a ManifestSet for onUpdate, a ValidationException for onInvalid. */
    final LinkedBlockingQueue<Object> heard = new LinkedBlockingQueue<>();

    @AfterEach
    void close() {
        if (source != null) source.close();
    }

    static String namespace(String name) {
        return "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n";
    }

    void start() {
        source = new DirectorySource(List.of(dir));
        source.start(new ManifestSource.Listener() {
            @Override
            public void onUpdate(ManifestSet set) {
                heard.add(set);
            }

            @Override
            public void onInvalid(ValidationException e) {
                heard.add(e);
            }
        });
    }

    /** The next delivery, which must come well within a second of the edit. */
    Object next() throws InterruptedException {
        Object o = heard.poll(1, TimeUnit.SECONDS);
        assertThat(o).as("a delivery within a second of the change").isNotNull();
        return o;
    }

    static List<String> names(Object delivered) {
        assertThat(delivered).isInstanceOf(ManifestSet.class);
        return ((ManifestSet) delivered).namespaces().stream().map(Namespace::name).sorted().toList();
    }

    @Test
    void readsEveryFileOfTheDirectoryAsOneSet() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
        Files.writeString(dir.resolve("b.yaml"), namespace("beta"));
        source = new DirectorySource(List.of(dir));
        assertThat(source.read().namespaces()).extracting(Namespace::name).containsExactlyInAnyOrder("alpha", "beta");
    }

    @Test
    void anAddedFileArrivesAsAWholeNewSet() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
        start();
        Files.writeString(dir.resolve("b.yaml"), namespace("beta"));
        assertThat(names(next())).containsExactly("alpha", "beta");
        Files.delete(dir.resolve("a.yaml"));
        assertThat(names(next())).containsExactly("beta");
    }

    @Test
    void anInvalidChangeIsReportedAndTheNextValidOneStillArrives() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
        start();
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: alpha}\n"
                + "spec:\n  podSelector: {}\n  policyTypes: [Sideways]\n");
        Object o = next();
        assertThat(o).isInstanceOf(ValidationException.class);
        assertThat(((ValidationException) o).errors()).extracting(ValidationError::toString)
                .containsExactly(bad + ":6: document 1 (NetworkPolicy alpha/n): spec.policyTypes[0]: unknown policy type \"Sideways\" (expected Ingress or Egress)");
        Files.writeString(bad, namespace("gamma"));
        assertThat(names(next())).containsExactly("alpha", "gamma");
    }

    @Test
    void aNewSubdirectoryIsWatchedToo() throws Exception {
        start();
        Path sub = Files.createDirectory(dir.resolve("team"));
        assertThat(names(next())).isEmpty();
        Files.writeString(sub.resolve("ns.yaml"), namespace("delta"));
        assertThat(names(next())).containsExactly("delta");
    }

    @Test
    void nothingArrivesAfterClose() throws Exception {
        start();
        source.close();
        Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
        assertThat(heard.poll(500, TimeUnit.MILLISECONDS)).isNull();
    }

    /**
     * Review finding F9: directories that come and go while the watcher registers them (a ConfigMap's
     * {@code ..data} swap does this) made registration throw and ended the watch thread for good; every later
     * change was ignored while the agent looked healthy. Churn subdirectories until the watcher has met such a
     * failure, then check that a later change still arrives.
     */
    @Test
    void survivesDirectoriesThatVanishWhileBeingRegistered() throws Exception {
        Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
        start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
        int round = 0;
        while (source.watchErrors() == 0 && source.alive() && System.nanoTime() < deadline) {
            // a tree the watcher will be busy walking and registering when it is removed under it; the delay
            // sweeps across the walk, which starts SETTLE_MS after the tree appeared
            Path d = dir.resolve("churn-" + round);
            for (int i = 0; i < 1500; i++) Files.createDirectories(d.resolve("d" + i).resolve("e"));
            Thread.sleep(DirectorySource.SETTLE_MS + (round++ % 20) * 3L);
            try (java.util.stream.Stream<Path> walk = Files.walk(d)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
        assertThat(source.alive()).as("the watcher survived the churn").isTrue();
        org.junit.jupiter.api.Assumptions.assumeTrue(source.watchErrors() > 0,
                "no registration met a vanished directory in 45 s of churn: the failure this test is about was not provoked");
        Files.writeString(dir.resolve("b.yaml"), namespace("beta"));
        Object o;
        do { // deliveries of the churn may come first
            o = next();
        } while (names(o).size() < 2);
        assertThat(names(o)).containsExactly("alpha", "beta");
        assertThat(source.alive()).isTrue();
    }
}
