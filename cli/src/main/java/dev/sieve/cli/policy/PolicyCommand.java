package dev.sieve.cli.policy;

import picocli.CommandLine.Command;

/** {@code sieve policy}: work with policy manifests offline. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Validate policies and trace verdicts against manifests, without a cluster.",
        subcommands = {ValidateCommand.class, TraceCommand.class})
public final class PolicyCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
