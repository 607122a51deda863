package dev.sieve.observer.relay;

import dev.sieve.api.ingest.v1.FlowBatch;
import java.nio.file.Path;

/** Writes a spool file the way the agent does, for the spool reader's fuzz seeds. */
public final class SpoolSeeds {
    private SpoolSeeds() {}

    public static void write(Path dir, FlowBatch batch) {
        Spool s = new Spool(dir, 1 << 20, 0);
        s.add(batch);
    }
}
