package dev.sieve.cli.observe;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.observer.ServerStatusRequest;
import dev.sieve.api.observer.ServerStatusResponse;
import dev.sieve.cli.UsageException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sieve status}: the Observer API server's status, laid out like {@code hubble status}. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Flows buffered/seen, flow rate and connected/unavailable nodes of a node or the relay.")
public final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = ObserverClient.DEFAULT_SERVER,
            description = "Observer API address (default ${DEFAULT-VALUE}).")
    String server;

    @picocli.CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "compact", description = "compact or json.")
    String output;

    @Override
    public Integer call() {
        if (!output.equals("compact") && !output.equals("json") && !output.equals("jsonpb")) {
            throw new UsageException("-o " + output + ": expected compact or json");
        }
        ServerStatusResponse s;
        try (ObserverClient client = new ObserverClient(server, tls)) {
            try {
                s = client.blocking(15).serverStatus(ServerStatusRequest.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                throw client.failure(e);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (!output.equals("compact")) {
            out.println(HubbleJson.print(s));
            return ExitCode.OK;
        }
        out.println("Healthcheck (via " + server + "): Ok");
        String ratio = s.getMaxFlows() > 0 ? String.format(Locale.ROOT, " (%.2f%%)", 100.0 * s.getNumFlows() / s.getMaxFlows()) : "";
        out.println("Current/Max Flows: " + group(s.getNumFlows()) + "/" + group(s.getMaxFlows()) + ratio);
        double rate = s.getFlowsRate();
        if (rate <= 0 && s.getUptimeNs() > 0) rate = s.getSeenFlows() / (s.getUptimeNs() / 1e9);
        out.println("Flows/s: " + String.format(Locale.ROOT, "%.2f", rate));
        out.println("Seen Flows: " + group(s.getSeenFlows()));
        if (s.hasNumConnectedNodes()) {
            String total = s.hasNumUnavailableNodes() ? "/" + (s.getNumConnectedNodes().getValue() + s.getNumUnavailableNodes().getValue()) : "";
            out.println("Connected Nodes: " + s.getNumConnectedNodes().getValue() + total);
        }
        if (s.hasNumUnavailableNodes() && s.getNumUnavailableNodes().getValue() > 0) {
            List<String> names = new ArrayList<>(s.getUnavailableNodesList());
            names.sort(null);
            int more = s.getNumUnavailableNodes().getValue() - names.size();
            if (more > 0) names.add("and " + more + " more...");
            out.println("Unavailable Nodes: " + s.getNumUnavailableNodes().getValue());
            for (String n : names) out.println("  - " + n);
        }
        return ExitCode.OK;
    }

    static String group(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
