package dev.sieve.cli.certs;

import picocli.CommandLine.Command;

/** {@code sieve certs}: certificates for TLS between nodes, relay and clients. */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "TLS certificates for node <-> relay mTLS and Observer clients.",
        subcommands = {CertsGenerateCommand.class})
public final class CertsCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
