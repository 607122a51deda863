package dev.sieve.cli;

import java.nio.file.Path;
import java.time.ZoneId;
import java.util.Map;

/**
 * What one run of the CLI reads from its process: environment, working directory, whether stdout is a terminal.
 * A plain JVM run reads its own process's; a run in the CLI daemon ({@link dev.sieve.cli.daemon.CliDaemon}) the
 * client's, bound for the run's thread, so runs side by side never see each other's.
 */
public record Invocation(Map<String, String> env, Path cwd, boolean stdoutTerminal) {

    public static final ScopedValue<Invocation> CURRENT = ScopedValue.newInstance();

    private static final class Process {
        static final Invocation INSTANCE = new Invocation(System.getenv(), Path.of("").toAbsolutePath(),
                System.console() != null && System.console().isTerminal());
    }

    /** The run's, else this process's. */
    public static Invocation current() {
        return CURRENT.isBound() ? CURRENT.get() : Process.INSTANCE;
    }

    public String env(String name) {
        return env.get(name);
    }

    /** A path argument, relative to the run's working directory. */
    public Path resolve(String path) {
        return cwd.resolve(path);
    }

    /** TZ of the run's environment when it names a zone, else the JVM's default zone. */
    public ZoneId zone() {
        String tz = env.get("TZ");
        if (tz != null && !tz.isEmpty()) {
            try {
                return ZoneId.of(tz.startsWith(":") ? tz.substring(1) : tz);
            } catch (RuntimeException e) {
                // a POSIX TZ rule Java does not parse: the default zone
            }
        }
        return ZoneId.systemDefault();
    }
}
