package dev.sieve.cli.fqdn;

import picocli.CommandLine.Command;

/** {@code sieve fqdn cache}. */
@Command(name = "cache", mixinStandardHelpOptions = true, description = "The learned FQDN cache of a node agent.",
        subcommands = {FqdnCacheListCommand.class})
public final class FqdnCacheCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
