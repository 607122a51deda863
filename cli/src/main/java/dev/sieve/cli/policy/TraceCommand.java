package dev.sieve.cli.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sieve.cli.UsageException;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationError;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sieve policy trace}: the verdict for one connection, and the policies that decided it. */
@Command(name = "trace", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Trace a connection through the policies of the given manifests.",
        footer = {"", "PEER is one of:",
                "  NAMESPACE/POD       a Pod in the manifests",
                "  ip:ADDRESS          any address (its identity: the pod that has it, else CIDR/world)",
                "  entity:NAME         host, remote-node, kube-apiserver, world, health, init, unmanaged",
                "  fqdn:NAME=ADDRESS   an address that DNS returned for NAME (for toFQDNs)",
                "", "Example:",
                "  sieve policy trace -f examples/ --from production/frontend --to production/backend --dport 8080/TCP"})
public final class TraceCommand implements Callable<Integer> {

    @Option(names = {"-f", "--file"}, arity = "1..*", required = true, paramLabel = "PATH",
            description = "Manifest files or directories: policies plus the namespaces, pods and services they apply to.")
    List<Path> files;

    @Option(names = "--from", required = true, paramLabel = "PEER", description = "The source.")
    String from;

    @Option(names = "--to", required = true, paramLabel = "PEER", description = "The destination.")
    String to;

    @Option(names = "--dport", required = true, paramLabel = "PORT[/PROTO]",
            description = "Destination port and protocol (TCP, UDP, SCTP, ICMP, ICMPv6; default TCP). For ICMP the port is the ICMP type.")
    String dport;

    @Option(names = "--http-method", paramLabel = "M", description = "HTTP method of an L7 request (default GET).")
    String httpMethod;
    @Option(names = "--http-path", paramLabel = "P", description = "HTTP path, with the query string (default /).")
    String httpPath;
    @Option(names = "--http-host", paramLabel = "H", description = "HTTP Host header.")
    String httpHost;
    @Option(names = "--http-header", paramLabel = "'Name: value'", description = "An HTTP request header; repeatable.")
    List<String> httpHeaders = new ArrayList<>();

    @Option(names = "--kafka-api-key", paramLabel = "K", description = "Kafka API key by name (produce, fetch, ...) or number.")
    String kafkaApiKey;
    @Option(names = "--kafka-api-version", paramLabel = "V", description = "Kafka API version.")
    Integer kafkaApiVersion;
    @Option(names = "--kafka-topic", paramLabel = "T", description = "Kafka topic of the request.")
    String kafkaTopic;
    @Option(names = "--kafka-client-id", paramLabel = "C", description = "Kafka client id of the request.")
    String kafkaClientId;

    @Option(names = "--dns-query", paramLabel = "NAME", description = "A DNS query name (for DNS rules).")
    String dnsQuery;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "default",
            description = "Policy enforcement mode: default, always or never (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
    String output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!output.equals("text") && !output.equals("json")) throw new UsageException("unknown output format \"" + output + "\" (expected text or json)");
        EnforcementMode enforcement = EnforcementMode.parse(mode);
        TraceRequest req = request();
        ManifestSet set;
        try {
            set = ManifestParser.load(files);
        } catch (ValidationException e) {
            PrintWriter err = spec.commandLine().getErr();
            for (ValidationError ve : e.errors()) err.println(ve);
            err.printf("%d error(s): fix the manifests to trace%n", e.errors().size());
            return ExitCode.USAGE;
        }
        PolicyEngine engine = new PolicyEngine(new LocalIdentityAllocator(), enforcement, null);
        engine.load(set);
        TraceResult result = new Tracer(engine).trace(req);
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) out.println(json(result, req));
        else TraceText.print(out, result, req);
        return ExitCode.OK;
    }

    private TraceRequest request() {
        String[] parts = dport.split("/", -1);
        if (parts.length > 2 || !parts[0].matches("\\d{1,5}") || Integer.parseInt(parts[0]) > 65535) {
            throw new UsageException("invalid --dport \"" + dport + "\": expected PORT[/PROTO] with PORT 0-65535, e.g. 8080/TCP");
        }
        Protocol proto = parts.length == 2 ? Protocol.parse(parts[1]) : Protocol.TCP;
        if (proto == null || proto == Protocol.ANY) {
            throw new UsageException("invalid protocol in --dport \"" + dport + "\" (expected TCP, UDP, SCTP, ICMP or ICMPv6)");
        }
        HttpRequest http = null;
        if (httpMethod != null || httpPath != null || httpHost != null || !httpHeaders.isEmpty()) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (String h : httpHeaders) {
                int colon = h.indexOf(':');
                if (colon <= 0) throw new UsageException("invalid --http-header \"" + h + "\": expected 'Name: value'");
                headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
            }
            http = new HttpRequest(httpMethod == null ? "GET" : httpMethod, httpPath == null ? "/" : httpPath, httpHost, headers);
        }
        KafkaRequest kafka = null;
        if (kafkaApiKey != null || kafkaTopic != null || kafkaClientId != null || kafkaApiVersion != null) {
            if (kafkaApiKey == null) throw new UsageException("--kafka-api-key is required for a Kafka request");
            int key = KafkaApiKeys.parse(kafkaApiKey);
            if (key < 0) throw new UsageException("unknown --kafka-api-key \"" + kafkaApiKey + "\"");
            kafka = new KafkaRequest(key, kafkaApiVersion == null ? -1 : kafkaApiVersion, kafkaClientId,
                    kafkaTopic == null ? List.of() : List.of(kafkaTopic));
        }
        int l7Kinds = (http != null ? 1 : 0) + (kafka != null ? 1 : 0) + (dnsQuery != null ? 1 : 0);
        if (l7Kinds > 1) throw new UsageException("give at most one L7 request: HTTP, Kafka or DNS flags");
        return new TraceRequest(from, to, Integer.parseInt(parts[0]), proto, http, kafka, dnsQuery);
    }

    static String json(TraceResult r, TraceRequest req) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verdict", r.verdict().name());
        m.put("source", r.source().fields());
        m.put("destination", r.destination().fields());
        Map<String, Object> traffic = new LinkedHashMap<>();
        traffic.put("port", req.port());
        traffic.put("protocol", req.protocol().name());
        m.put("traffic", traffic);
        m.put("egress", direction(r.egress()));
        m.put("ingress", direction(r.ingress()));
        if (r.l7() != null) {
            Map<String, Object> l7 = new LinkedHashMap<>();
            l7.put("verdict", r.l7().verdict().name());
            l7.put("rule", r.l7().rule());
            l7.put("reason", r.l7().reason());
            m.put("l7", l7);
        }
        m.put("reason", r.reason());
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> direction(TraceResult.DirectionResult d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("verdict", d.verdict().name());
        m.put("enforced", d.enforced());
        m.put("audit", d.audit());
        m.put("rule", d.rule());
        m.put("policies", d.policies());
        m.put("drop_reason", d.dropReason());
        m.put("drop_reason_desc", TraceText.dropReasonName(d.dropReason()));
        m.put("reason", d.reason());
        return m;
    }
}
