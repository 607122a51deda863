package dev.sieve.cli.fqdn;

import picocli.CommandLine.Command;

/** {@code sieve fqdn}: what the node's DNS proxy learned for toFQDNs policies. */
@Command(name = "fqdn", mixinStandardHelpOptions = true,
        description = "toFQDNs: the addresses DNS answers taught the node, per endpoint.",
        subcommands = {FqdnCacheCommand.class})
public final class FqdnCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
