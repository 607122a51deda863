package dev.sieve.cli.fqdn;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sieve.cli.UsageException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sieve fqdn cache list}, like {@code cilium fqdn cache list}: every address a DNS answer taught the node
 * agent, per endpoint and name, with the TTL left and why it is kept ({@code lookup}: within its TTL;
 * {@code connection}: expired, kept while a connection to it lives). Reads the running agent's
 * {@code GET /v1/fqdn/cache} on its metrics address.
 */
@Command(name = "list", mixinStandardHelpOptions = true, sortOptions = false,
        description = "List the addresses the node agent learned from DNS answers (endpoint, name, address, TTL left, source).",
        footer = {"", "Examples:", "  sieve fqdn cache list", "  sieve fqdn cache list --matchpattern '*.amazonaws.com' -o json"})
public final class FqdnCacheListCommand implements Callable<Integer> {

    @Option(names = "--agent", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9965",
            description = "The node agent's metrics address (default ${DEFAULT-VALUE}).")
    String agent;

    @Option(names = {"-n", "--matchpattern"}, paramLabel = "PATTERN",
            description = "Only names matching this DNS pattern (* within one label, as in toFQDNs matchPattern).")
    String pattern;

    @Option(names = {"-e", "--endpoint"}, paramLabel = "IP|NAMESPACE/POD", description = "Only this endpoint.")
    String endpoint;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table", description = "table or json (default ${DEFAULT-VALUE}).")
    String output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!output.equals("table") && !output.equals("json")) throw new UsageException("-o " + output + ": expected table or json");
        java.util.regex.Pattern re = null;
        if (pattern != null) {
            if (!dev.sieve.policy.l7.DnsNames.PATTERN.matcher(pattern).matches()) throw new UsageException("--matchpattern " + pattern + ": not a DNS pattern");
            re = dev.sieve.policy.l7.DnsNames.compilePattern(pattern);
        }
        URI uri;
        try {
            uri = URI.create("http://" + agent + "/v1/fqdn/cache");
        } catch (IllegalArgumentException e) {
            throw new UsageException("--agent " + agent + ": expected HOST:PORT");
        }
        PrintWriter err = spec.commandLine().getErr();
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build()
                    .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            err.println("sieve fqdn cache list: cannot reach the agent at " + agent + ": " + e.getMessage());
            return ExitCode.SOFTWARE;
        }
        if (r.statusCode() != 200) {
            err.println("sieve fqdn cache list: the agent at " + agent + " answered " + r.statusCode() + ": " + r.body());
            return ExitCode.SOFTWARE;
        }
        List<JsonNode> rows = new ArrayList<>();
        for (JsonNode n : new ObjectMapper().readTree(r.body())) {
            if (re != null && !re.matcher(n.path("fqdn").asText()).matches()) continue;
            if (endpoint != null && !endpoint.equals(n.path("endpoint").asText()) && !endpoint.equals(n.path("pod").asText())) continue;
            rows.add(n);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) {
            out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(rows));
            return ExitCode.OK;
        }
        List<String[]> table = new ArrayList<>();
        table.add(new String[] {"Endpoint", "Pod", "Source", "FQDN", "TTL", "ExpirationTime", "IP"});
        for (JsonNode n : rows) {
            table.add(new String[] {n.path("endpoint").asText(), n.path("pod").asText(), n.path("source").asText(), n.path("fqdn").asText(),
                    n.path("ttl").asText(), n.path("expiration").asText(), n.path("ip").asText()});
        }
        int[] w = new int[table.getFirst().length];
        for (String[] row : table) for (int i = 0; i < row.length; i++) w[i] = Math.max(w[i], row[i].length());
        for (String[] row : table) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                sb.append(row[i]);
                if (i < row.length - 1) sb.append(" ".repeat(w[i] - row[i].length() + 3));
            }
            out.println(sb);
        }
        return ExitCode.OK;
    }
}
