package dev.sieve.lab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs host commands (ip, sysctl, the pods' programs) with a timeout. */
final class Shell {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);

    private Shell() {}

    static ExecResult run(Duration timeout, String stdin, List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new LabException("cannot start " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        try {
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                return new ExecResult(124, out.join(), err.join() + "\n[timed out after " + timeout + "]");
            }
            return new ExecResult(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            p.destroyForcibly();
            throw new LabException("I/O with " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LabException("interrupted: " + String.join(" ", cmd), e);
        }
    }

    static ExecResult run(String... cmd) {
        return run(DEFAULT_TIMEOUT, null, List.of(cmd));
    }

    static ExecResult checked(String... cmd) {
        return run(cmd).orThrow(String.join(" ", cmd));
    }

    /** Runs {@code ip [-n ns] -batch -} with the given lines; fails naming the lines. */
    static void ipBatch(String netns, List<String> lines) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        if (netns != null) {
            cmd.addAll(List.of("-n", netns));
        }
        cmd.addAll(List.of("-batch", "-"));
        String script = String.join("\n", lines) + "\n";
        run(DEFAULT_TIMEOUT, script, cmd).orThrow("ip" + (netns != null ? " -n " + netns : "") + " -batch [" + String.join("; ", lines) + "]");
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, Thread::startVirtualThread);
    }
}
