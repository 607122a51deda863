package dev.sieve.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Inputs a fuzz test ran and for how long, written to {@code fuzz.stats.dir/<parser>.json} when the class ends, so
 * scripts/bench-fuzz.sh can report inputs per second per parser. Crashes are the test's failures, not counted here.
 */
public final class FuzzStats {
    private final String parser;
    private final AtomicLong inputs = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private long first;

    public FuzzStats(String parser) {
        this.parser = parser;
    }

    /** One input ran. */
    public void input() {
        if (inputs.getAndIncrement() == 0) first = System.nanoTime();
    }

    /** The parser refused the input with its own clear error (counted apart from the inputs it took). */
    public void refused() {
        refused.incrementAndGet();
    }

    public long inputs() {
        return inputs.get();
    }

    public void write() throws IOException {
        String dir = System.getProperty("fuzz.stats.dir");
        if (dir == null) return;
        double seconds = inputs.get() == 0 ? 0 : (System.nanoTime() - first) / 1e9;
        String json = String.format(java.util.Locale.ROOT,
                "{\"parser\":\"%s\",\"inputs\":%d,\"refused\":%d,\"seconds\":%.1f,\"inputs_per_second\":%.0f,\"fuzzing\":%s}%n",
                parser, inputs.get(), refused.get(), seconds, seconds > 0 ? inputs.get() / seconds : 0,
                System.getenv().getOrDefault("JAZZER_FUZZ", "false").matches("(?i)1|true"));
        Files.createDirectories(Path.of(dir));
        Files.writeString(Path.of(dir, parser + ".json"), json);
    }
}
