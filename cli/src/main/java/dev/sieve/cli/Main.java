package dev.sieve.cli;

import dev.sieve.cli.lab.LabCommand;
import dev.sieve.cli.observe.NodesCommand;
import dev.sieve.cli.observe.ObserveCommand;
import dev.sieve.cli.observe.StatusCommand;
import dev.sieve.cli.policy.PolicyCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code sieve} command. Exit codes: 0 success, 1 the command ran but failed (e.g. a server error),
 * 2 bad input (flags, arguments, or manifests that do not validate).
 */
@Command(name = "sieve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Identity-aware network policy with eBPF enforcement, every verdict a flow.",
        subcommands = {PolicyCommand.class, ObserveCommand.class, StatusCommand.class, NodesCommand.class, LabCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; used by main and by tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExitCodeExceptionMapper(e -> EXIT_USAGE);
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println("sieve: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
            return EXIT_USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parseResult) -> {
            if (ex instanceof UsageException || ex instanceof IllegalArgumentException) {
                err.println("sieve: " + ex.getMessage());
                return EXIT_USAGE;
            }
            err.println("sieve: " + ex);
            return EXIT_FAILED;
        });
        int code = cmd.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** A clear one-line complaint about the user's input: printed without a stack trace, exit 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sieve " + (v == null ? "dev" : v)};
        }
    }
}
