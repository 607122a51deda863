package dev.sieve.cli.observe;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.observer.GetNodesRequest;
import dev.sieve.api.observer.GetNodesResponse;
import dev.sieve.api.observer.Node;
import dev.sieve.cli.UsageException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sieve nodes}: the nodes behind an Observer API server, laid out like {@code hubble list nodes}. */
@Command(name = "nodes", mixinStandardHelpOptions = true, description = "List the nodes an Observer API server knows and their state.")
public final class NodesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = ObserverClient.DEFAULT_SERVER,
            description = "Observer API address (default ${DEFAULT-VALUE}).")
    String server;

    @picocli.CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table", description = "table or json.")
    String output;

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json") && !output.equals("jsonpb")) {
            throw new UsageException("-o " + output + ": expected table or json");
        }
        GetNodesResponse r;
        try (ObserverClient client = new ObserverClient(server, tls)) {
            try {
                r = client.blocking(15).getNodes(GetNodesRequest.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                throw client.failure(e);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (!output.equals("table")) {
            for (Node n : r.getNodesList()) out.println(HubbleJson.print(n));
            return ExitCode.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "STATUS", "AGE", "FLOWS/S", "CURRENT/MAX-FLOWS"});
        for (Node n : r.getNodesList()) {
            double uptime = n.getUptimeNs() / 1e9;
            String rate = uptime > 0 ? String.format(Locale.ROOT, "%.2f", n.getSeenFlows() / uptime) : "N/A";
            String ratio = n.getMaxFlows() > 0 ? String.format(Locale.ROOT, " (%.2f%%)", 100.0 * n.getNumFlows() / n.getMaxFlows()) : "";
            rows.add(new String[] {n.getName(), state(n), age(n.getUptimeNs()), rate,
                    StatusCommand.group(n.getNumFlows()) + "/" + StatusCommand.group(n.getMaxFlows()) + ratio});
        }
        int[] w = new int[5];
        for (String[] row : rows) for (int i = 0; i < 4; i++) w[i] = Math.max(w[i], row[i].length() + 3);
        for (String[] row : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                b.append(row[i]);
                if (i < 4) b.repeat(' ', w[i] - row[i].length());
            }
            out.println(b);
        }
        return ExitCode.OK;
    }

    private static String state(Node n) {
        return switch (n.getState()) {
            case NODE_CONNECTED -> "Connected";
            case NODE_UNAVAILABLE -> "Unavailable";
            case NODE_GONE -> "Gone";
            case NODE_ERROR -> "Error";
            default -> "Unknown";
        };
    }

    private static String age(long ns) {
        Duration d = Duration.ofNanos(ns);
        long h = d.toHours(), m = d.toMinutesPart(), s = d.toSecondsPart();
        if (h > 0) return h + "h" + m + "m";
        if (m > 0) return m + "m" + s + "s";
        return s + "s";
    }
}
