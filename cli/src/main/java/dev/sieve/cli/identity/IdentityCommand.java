package dev.sieve.cli.identity;

import picocli.CommandLine.Command;

/** {@code sieve identity}: security identities (label sets) and the endpoints that use them. */
@Command(name = "identity", mixinStandardHelpOptions = true,
        description = "Security identities: which label sets have a number, and which endpoints use them.",
        subcommands = {IdentityListCommand.class})
public final class IdentityCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
