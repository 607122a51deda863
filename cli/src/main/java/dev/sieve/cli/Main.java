package dev.sieve.cli;

import dev.sieve.cli.identity.IdentityCommand;
import dev.sieve.cli.lab.LabCommand;
import dev.sieve.cli.observe.NodesCommand;
import dev.sieve.cli.observe.ObserveCommand;
import dev.sieve.cli.observe.StatusCommand;
import dev.sieve.cli.policy.PolicyCommand;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;

/**
 * The {@code sieve} command. Exit codes, picocli's {@link ExitCode}: 0 success, 1 the command ran but failed
 * (e.g. a server error), 2 bad input (flags, arguments, or manifests that do not validate; {@link UsageException}).
 * The subcommands know only those two, not this class.
 */
@Command(name = "sieve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Identity-aware network policy with eBPF enforcement, every verdict a flow.",
        footer = {"", "Exit codes: 0 success, 1 the command ran but failed (e.g. a server error), 2 bad input.",
                "Shell completion: source <(sieve completion bash)   (zsh: source <(sieve completion zsh))"})
public final class Main implements Runnable {

    /**
     * The subcommands, in the order --help lists them. Built lazily: picocli reflects over every option of
     * every command it is given, so a run of one subcommand registers only that one (see {@link #commandLine}).
     */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = new LinkedHashMap<>();

    static {
        SUBCOMMANDS.put("policy", PolicyCommand::new);
        SUBCOMMANDS.put("observe", ObserveCommand::new);
        SUBCOMMANDS.put("status", StatusCommand::new);
        SUBCOMMANDS.put("nodes", NodesCommand::new);
        SUBCOMMANDS.put("identity", IdentityCommand::new);
        SUBCOMMANDS.put("fqdn", dev.sieve.cli.fqdn.FqdnCommand::new);
        SUBCOMMANDS.put("certs", dev.sieve.cli.certs.CertsCommand::new);
        SUBCOMMANDS.put("lab", LabCommand::new);
        SUBCOMMANDS.put("daemon", dev.sieve.cli.daemon.DaemonCommand::new);
        SUBCOMMANDS.put("completion", CompletionCommand::new);
        SUBCOMMANDS.put("help", CommandLine.HelpCommand::new);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--train-cds")) { // bin/sieve's class-data-sharing training run
            CdsTraining.run(args.length > 1 ? args[1] : null, Main::run);
            System.exit(ExitCode.OK);
        }
        // stdout buffered, flushed by run() at the end and by the commands that stream (--follow, lab): a line-by-line
        // flush made 10,000 JSON flows 10,000 writes
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), System.out.charset()), 1 << 16));
        System.exit(run(args, out, new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams; used by main and by tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cmd = commandLine(args);
        Invocation inv = Invocation.current();
        // the run's working directory and environment, not the process's: the same in a plain JVM, the client's in the daemon
        cmd.registerConverter(java.nio.file.Path.class, inv::resolve);
        cmd.setDefaultValueProvider(Main::envDefault);
        if (Invocation.CURRENT.isBound()) { // in the daemon picocli's own terminal check would look at the daemon's
            boolean ansi = inv.stdoutTerminal() && inv.env("NO_COLOR") == null && !"dumb".equals(inv.env("TERM"));
            cmd.setColorScheme(CommandLine.Help.defaultColorScheme(ansi ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
        }
        cmd.setOut(out);
        cmd.setErr(err);
        cmd.setExitCodeExceptionMapper(e -> ExitCode.USAGE);
        cmd.setOverwrittenOptionsAllowed(true); // as hubble (pflag): a repeated single-value flag takes the last value
        cmd.setParameterExceptionHandler((ex, a) -> {
            out.flush();
            err.println("sieve: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
            return ExitCode.USAGE;
        });
        cmd.setExecutionExceptionHandler((ex, c, parseResult) -> {
            out.flush(); // what was printed before the failure comes before its message
            if (ex instanceof UsageException || ex instanceof IllegalArgumentException) {
                err.println("sieve: " + ex.getMessage());
                return ExitCode.USAGE;
            }
            err.println("sieve: " + ex);
            return ExitCode.SOFTWARE;
        });
        int code = cmd.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static final java.util.regex.Pattern ENV_DEFAULT = java.util.regex.Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)(?::-(.*))?}");

    /**
     * An option's {@code ${env:NAME:-fallback}} default, read from the run's environment ({@link Invocation}); null
     * (picocli's own default) for every other option.
     */
    static String envDefault(CommandLine.Model.ArgSpec arg) {
        if (!(arg.userObject() instanceof java.lang.reflect.AnnotatedElement el)) return null;
        CommandLine.Option option = el.getAnnotation(CommandLine.Option.class);
        if (option == null) return null;
        var m = ENV_DEFAULT.matcher(option.defaultValue());
        if (!m.matches()) return null;
        String v = Invocation.current().env(m.group(1));
        return v != null ? v : m.group(2);
    }

    /**
     * The command tree: with only the subcommand {@code args[0]} names (other than help and completion, which need
     * them all), else with every subcommand; {@code observe}'s own subcommands only where {@code args} may use them.
     */
    public static CommandLine commandLine(String[] args) {
        String first = args != null && args.length > 0 ? args[0] : null;
        CommandLine cmd = new CommandLine(new Main());
        boolean one = first != null && SUBCOMMANDS.containsKey(first) && !first.equals("help") && !first.equals("completion");
        for (Map.Entry<String, Supplier<Object>> e : SUBCOMMANDS.entrySet()) {
            if (!one || e.getKey().equals(first)) {
                cmd.addSubcommand(e.getKey(), e.getKey().equals("observe")
                        ? ObserveCommand.withSubcommands(one ? Arrays.asList(args).subList(1, args.length) : null)
                        : e.getValue().get());
            }
        }
        return cmd;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"sieve " + (v == null ? "dev" : v)};
        }
    }
}
