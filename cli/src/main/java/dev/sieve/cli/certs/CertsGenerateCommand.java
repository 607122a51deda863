package dev.sieve.cli.certs;

import dev.sieve.cli.UsageException;
import dev.sieve.tls.CertificateGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sieve certs generate}: a CA and the certificates it signs, as Cilium's certgen makes them for Hubble. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Write a CA (ca.crt, ca.key) and certificates it signs: relay.crt/.key (server), nodes/NODE.crt/.key "
                + "(one per node; its common name is the node name it may push as), client.crt/.key (an Observer client).",
        footer = {"", "Examples:", "  sieve certs generate --out /etc/sieve/tls --relay-name relay.sieve --nodes node-a,node-b",
                "  sieve-relay --tls-cert-file DIR/relay.crt --tls-key-file DIR/relay.key --ingest-client-ca-files DIR/ca.crt",
                "  sieve-agent ... --relay-tls-ca-files DIR/ca.crt --relay-tls-cert-file DIR/nodes/node-a.crt --relay-tls-key-file DIR/nodes/node-a.key",
                "  hubble observe --server 127.0.0.1:4245 --tls --tls-ca-cert-files DIR/ca.crt --tls-server-name relay.sieve"})
public final class CertsGenerateCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder to write to (created; files in it are replaced).")
    Path out;
    @Option(names = "--relay-name", paramLabel = "NAME", required = true, description = "The relay's name (its certificate's CN and DNS name).")
    String relayName;
    @Option(names = "--nodes", paramLabel = "NAME", split = ",", required = true, description = "Node names, comma-separated.")
    List<String> nodes;
    @Option(names = "--san", paramLabel = "NAME|IP", split = ",", description = "More DNS names or addresses for the relay's and nodes' certificates.")
    List<String> sans;
    @Option(names = "--validity", paramLabel = "DAYS", defaultValue = "365", description = "Days the certificates are valid (default ${DEFAULT-VALUE}).")
    int days;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (days < 1) throw new UsageException("--validity: at least 1 day");
        List<Path> written;
        try {
            written = CertificateGenerator.generate(new CertificateGenerator.Options(out, relayName, nodes, Duration.ofDays(days),
                    sans == null ? List.of() : sans));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        var w = spec.commandLine().getOut();
        for (Path p : written) w.println(p);
        w.flush();
        return 0;
    }
}
