package dev.sieve.observer.relay;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sieve.fuzz.FuzzStats;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;

/**
 * The node's spool reader on an arbitrary spool file, as an agent restarting over a torn or corrupted disk meets it:
 * the spool loads with that file either as one batch or skipped and counted as corrupt, never an exception. (In this
 * package because the spool is the pusher's own; the harness lives with the other fuzz tests.)
 */
class SpoolRecordFuzzTest {
    static final FuzzStats STATS = new FuzzStats("spool-record");
    static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("sieve-fuzz-spool-");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "4s")
    void records(byte[] input) throws Exception {
        STATS.input();
        Path f = DIR.resolve("0000000000001-e-000000000001.batch");
        Files.write(f, input);
        Spool spool = new Spool(DIR, 1 << 20, 4);
        if (spool.corruptRecords() > 0) {
            STATS.refused();
            if (spool.size() != 0 || Files.exists(f)) throw new AssertionError("a corrupt record was kept");
        } else if (spool.size() != 1) {
            throw new AssertionError("a record that read back whole was not loaded: " + spool.size());
        }
        Files.deleteIfExists(f);
    }

    @AfterAll
    static void stats() throws Exception {
        STATS.write();
        try (var s = Files.list(DIR)) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        }
        Files.deleteIfExists(DIR);
    }
}
