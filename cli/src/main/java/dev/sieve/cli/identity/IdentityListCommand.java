package dev.sieve.cli.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.cli.UsageException;
import dev.sieve.cli.observe.ObserverClient;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.Identity;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.labels.Label;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sieve identity list}: every identity with its labels and the endpoints (pods) that use it, to watch
 * identity cardinality. From manifests (computed offline by the policy engine: every allocated identity,
 * reserved and CIDR/FQDN ones included) or from the flows an Observer API server holds (the identities seen
 * as source or destination).
 */
@Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"List security identities, their labels and the endpoints using them, sorted by number.",
                "With -f: every identity the policy engine allocates for the manifests (reserved, cluster and CIDR/FQDN).",
                "Otherwise: the identities seen in the flows of an Observer API server (a node or the relay)."},
        footer = {"", "Examples:",
                "  sieve identity list -f examples/",
                "  sieve identity list --server localhost:4245 -o json | wc -l"})
public final class IdentityListCommand implements Callable<Integer> {

    @Option(names = {"-f", "--file"}, arity = "1..*", paramLabel = "PATH",
            description = "Manifest files or directories (policies, namespaces, pods, services, nodes).")
    List<Path> files;

    @Option(names = "--server", paramLabel = "HOST:PORT",
            description = "Observer API address: the relay (default " + ObserverClient.DEFAULT_SERVER + ") or a node (:4244).")
    String server;

    @picocli.CommandLine.Mixin
    dev.sieve.cli.observe.TlsOptions tls = new dev.sieve.cli.observe.TlsOptions();

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table", description = "table or json (one object a line; default ${DEFAULT-VALUE}).")
    String output;

    @Spec
    CommandSpec spec;

    /** One identity: its number, labels and the pods (NAMESPACE/POD) that use it. */
    record Row(long id, List<String> labels, SortedSet<String> endpoints) {}

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json")) throw new UsageException("-o " + output + ": expected table or json");
        if (files != null && server != null) throw new UsageException("give either -f PATH... (manifests) or --server HOST:PORT, not both");
        List<Row> rows;
        if (files != null) {
            try {
                rows = fromManifests(ManifestParser.load(files));
            } catch (ValidationException e) {
                PrintWriter err = spec.commandLine().getErr();
                for (ValidationError ve : e.errors()) err.println(ve);
                err.printf("%d error(s): fix the manifests to list their identities%n", e.errors().size());
                return ExitCode.USAGE;
            }
        } else {
            rows = fromServer(server != null ? server : ObserverClient.DEFAULT_SERVER, tls);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) printJson(out, rows);
        else printTable(out, rows);
        return ExitCode.OK;
    }

    static List<Row> fromManifests(ManifestSet set) {
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        engine.load(set);
        Map<Integer, SortedSet<String>> pods = new TreeMap<>();
        for (var ep : engine.endpoints()) {
            if (ep.identity() != null) pods.computeIfAbsent(ep.identity().id(), k -> new TreeSet<>()).add(ep.key());
        }
        List<Row> rows = new ArrayList<>();
        for (Identity id : engine.allocator().all()) {
            List<String> labels = new ArrayList<>();
            for (Label l : id.labels()) labels.add(l.toString());
            rows.add(new Row(Integer.toUnsignedLong(id.id()), labels, pods.getOrDefault(id.id(), new TreeSet<>())));
        }
        return rows;
    }

    static List<Row> fromServer(String server) {
        return fromServer(server, null);
    }

    static List<Row> fromServer(String server, dev.sieve.cli.observe.TlsOptions tls) {
        Map<Long, Row> byId = new TreeMap<>();
        GetFlowsRequest req = GetFlowsRequest.newBuilder().build(); // no number, no follow: every flow in the buffer
        try (ObserverClient client = new ObserverClient(server, tls)) {
            client.getFlows(req, r -> {
                if (!r.hasFlow()) return;
                add(byId, r.getFlow().getSource());
                add(byId, r.getFlow().getDestination());
            });
        }
        return new ArrayList<>(byId.values());
    }

    private static void add(Map<Long, Row> byId, Endpoint e) {
        if (e.getIdentity() == 0 && e.getLabelsCount() == 0 && e.getPodName().isEmpty()) return; // side not known
        Row row = byId.computeIfAbsent(Integer.toUnsignedLong(e.getIdentity()), id -> {
            List<String> labels = new ArrayList<>(e.getLabelsList());
            labels.sort(null);
            return new Row(id, labels, new TreeSet<>());
        });
        if (!e.getPodName().isEmpty()) row.endpoints().add(e.getNamespace().isEmpty() ? e.getPodName() : e.getNamespace() + "/" + e.getPodName());
    }

    static void printTable(PrintWriter out, List<Row> rows) {
        int labelWidth = "LABELS".length();
        for (Row r : rows) for (String l : r.labels()) labelWidth = Math.max(labelWidth, l.length());
        String format = "%-10s %-10s %-" + labelWidth + "s   %s";
        out.println(String.format(format, "ID", "ENDPOINTS", "LABELS", "PODS").stripTrailing());
        long endpoints = 0;
        for (Row r : rows) {
            endpoints += r.endpoints().size();
            List<String> pods = new ArrayList<>(r.endpoints());
            int lines = Math.max(1, Math.max(r.labels().size(), pods.size()));
            for (int i = 0; i < lines; i++) {
                String label = i < r.labels().size() ? r.labels().get(i) : "";
                String pod = i < pods.size() ? pods.get(i) : "";
                out.println(String.format(format, i == 0 ? Long.toString(r.id()) : "", i == 0 ? Integer.toString(pods.size()) : "",
                        label, pod).stripTrailing());
            }
        }
        out.println();
        out.println(rows.size() + " identities, " + endpoints + " endpoints");
    }

    static void printJson(PrintWriter out, List<Row> rows) {
        ObjectMapper mapper = new ObjectMapper();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", r.id());
            m.put("labels", r.labels());
            m.put("endpoints", r.endpoints());
            try {
                out.println(mapper.writeValueAsString(m));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
