package dev.sieve.cli.daemon;

import dev.sieve.cli.Invocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code sieve daemon status|stop|run}: the warm JVM the native client hands its command lines to
 * ({@link CliDaemon}). The client starts it on demand; {@code SIEVE_CLI_DAEMON=0} bypasses it.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = "The background JVM that runs sieve's commands for the native client (started on demand, "
                + "leaves after SIEVE_CLI_DAEMON_IDLE_SECONDS, default 300, idle; SIEVE_CLI_DAEMON=0 bypasses it).",
        subcommands = {DaemonCommand.Status.class, DaemonCommand.Stop.class, DaemonCommand.Run.class})
public final class DaemonCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static Path dir() {
        return SocketDir.resolve(Invocation.current().env());
    }

    static int ask(CommandSpec spec, String what) throws java.io.IOException {
        Path dir = dir();
        if (Files.isDirectory(dir)) SocketDir.checked(dir); // a folder others control: no answer from it is trusted
        DaemonClient.Reply r = DaemonClient.call(dir, new Frames.Request("", 0, "/", new String[] {"daemon", what}, new String[0]));
        if (r == null) {
            spec.commandLine().getOut().println("sieve CLI daemon: not running (" + dir.resolve(SocketDir.SOCKET) + ")");
            return what.equals("status") ? 3 : ExitCode.OK;
        }
        spec.commandLine().getOut().print(r.out());
        spec.commandLine().getErr().print(r.err());
        return r.exitCode() < 0 ? ExitCode.SOFTWARE : r.exitCode();
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Whether a CLI daemon runs (exit 0) or not (exit 3).")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return ask(spec, "status");
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop the CLI daemon (runs under way finish first).")
    static final class Stop implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return ask(spec, "stop");
        }
    }

    @Command(name = "run", hidden = true, description = "Serve as the CLI daemon (the native client starts it).")
    static final class Run implements Callable<Integer> {
        @Option(names = "--build-id", required = true)
        String buildId;

        @Override
        public Integer call() throws Exception {
            String idle = Invocation.current().env("SIEVE_CLI_DAEMON_IDLE_SECONDS");
            long idleMillis = (long) (1000 * (idle == null || idle.isEmpty() ? 300 : Double.parseDouble(idle)));
            new CliDaemon(dir(), buildId, idleMillis).serve(5000);
            return ExitCode.OK;
        }
    }
}
