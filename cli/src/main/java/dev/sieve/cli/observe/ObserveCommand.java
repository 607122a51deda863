package dev.sieve.cli.observe;

import com.google.protobuf.FieldMask;
import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.cli.UsageException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sieve observe}: flows from an Observer API server, with hubble observe's filters and layouts. */
@Command(name = "observe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Observe flows from a Sieve node (:4244) or the relay (:4245), like 'hubble observe'.",
                "Filter flags AND together; --pod/--ip/--label/--namespace/--port/--identity/--fqdn match either side;",
                "--not negates the next filter flag. Without --first/--last/--all/--since the last 20 flows are shown."},
        footer = {"", "Examples:",
                "  sieve observe --verdict DROPPED --namespace production",
                "  sieve observe --from-pod shop/frontend --to-port 8080 -o table",
                "  sieve observe --since 5m --not --protocol udp -f"})
public final class ObserveCommand implements Callable<Integer> {

    /** The names of observe's subcommands: {@code flows} (the same command again, as {@code hubble observe flows}) and the events. */
    private static final List<String> SUBCOMMANDS = List.of("flows", "agent-events", "debug-events");

    /**
     * The command with its subcommands, or alone when {@code args} (what follows {@code observe}) can name none of
     * them nor ask for help: picocli reflects over every option of every command it is given, and a second copy of
     * observe's options for {@code flows} doubled the start-up of the common {@code sieve observe ...}.
     */
    public static picocli.CommandLine withSubcommands(List<String> args) {
        picocli.CommandLine cmd = new picocli.CommandLine(new ObserveCommand());
        boolean any = args == null;
        if (args != null) {
            for (String a : args) {
                if (SUBCOMMANDS.contains(a) || a.equals("help") || a.equals("-h") || a.equals("--help") || a.startsWith("-h")) {
                    any = true;
                    break;
                }
            }
        }
        if (any) {
            cmd.addSubcommand("flows", new ObserveCommand());
            cmd.addSubcommand("agent-events", new EventsCommand.Agent());
            cmd.addSubcommand("debug-events", new EventsCommand.Debug());
        }
        return cmd;
    }

    /** The fields hubble asks for when it prints compact, dict or table output (its default field mask, v1.19). */
    static final List<String> DEFAULT_FIELD_MASK = List.of("time", "verdict", "ethernet", "IP", "l4", "source.identity",
            "source.namespace", "source.pod_name", "destination.identity", "destination.namespace", "destination.pod_name",
            "Type", "node_name", "l7", "event_type", "source_service", "destination_service", "is_reply", "Summary", "ip_trace_id");

    private static List<FlowFilter> rawFilters(String flag, List<String> json) {
        List<FlowFilter> out = new ArrayList<>();
        if (json == null) return out;
        for (String j : json) {
            try {
                out.add(HubbleJson.merge(j, FlowFilter.newBuilder()).build());
            } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
                throw new UsageException(flag + " " + j + ": not a JSON encoded FlowFilter: " + e.getMessage());
            }
        }
        return out;
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = ObserverClient.DEFAULT_SERVER,
            description = "Observer API address: the relay (default ${DEFAULT-VALUE}) or a node (:4244).")
    String server;

    @picocli.CommandLine.Mixin
    TlsOptions tls = new TlsOptions();

    @Option(names = "--verdict", paramLabel = "VERDICT", description = "FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED.")
    List<String> verdict;
    @Option(names = "--drop-reason-desc", paramLabel = "REASON", description = "Drop reason, e.g. POLICY_DENIED, POLICY_DENY.")
    List<String> dropReason;
    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "Flows from or to pods in namespace NS.")
    List<String> namespace;
    @Option(names = "--pod", paramLabel = "[NS/]POD", description = "Flows from or to the pod (name prefix; NS/ for a whole namespace).")
    List<String> pod;
    @Option(names = "--from-pod", paramLabel = "[NS/]POD", description = "Flows from the pod.")
    List<String> fromPod;
    @Option(names = "--to-pod", paramLabel = "[NS/]POD", description = "Flows to the pod.")
    List<String> toPod;
    @Option(names = {"-l", "--label"}, paramLabel = "SELECTOR", description = "Label selector on either side, e.g. k8s:app=web or 'app in (a,b)'.")
    List<String> label;
    @Option(names = "--from-label", paramLabel = "SELECTOR", description = "Label selector on the source.")
    List<String> fromLabel;
    @Option(names = "--to-label", paramLabel = "SELECTOR", description = "Label selector on the destination.")
    List<String> toLabel;
    @Option(names = "--ip", paramLabel = "IP|CIDR", description = "Source or destination address.")
    List<String> ip;
    @Option(names = "--from-ip", paramLabel = "IP|CIDR", description = "Source address.")
    List<String> fromIp;
    @Option(names = "--to-ip", paramLabel = "IP|CIDR", description = "Destination address.")
    List<String> toIp;
    @Option(names = "--port", paramLabel = "PORT", description = "Source or destination port.")
    List<String> port;
    @Option(names = "--from-port", paramLabel = "PORT", description = "Source port.")
    List<String> fromPort;
    @Option(names = "--to-port", paramLabel = "PORT", description = "Destination port.")
    List<String> toPort;
    @Option(names = "--protocol", paramLabel = "PROTO", description = "tcp, udp, sctp, icmp, icmpv4, icmpv6, http, dns, kafka.")
    List<String> protocol;
    @Option(names = {"-t", "--type"}, paramLabel = "TYPE[:SUB]", description = "Event type: trace[:to-endpoint|from-endpoint|...], drop, policy-verdict, l7.")
    List<String> type;
    @Option(names = "--identity", paramLabel = "ID", description = "Source or destination security identity.")
    List<String> identity;
    @Option(names = "--from-identity", paramLabel = "ID", description = "Source security identity.")
    List<String> fromIdentity;
    @Option(names = "--to-identity", paramLabel = "ID", description = "Destination security identity.")
    List<String> toIdentity;
    @Option(names = "--fqdn", paramLabel = "NAME", description = "Source or destination DNS name (* wildcards).")
    List<String> fqdn;
    @Option(names = "--from-fqdn", paramLabel = "NAME", description = "Source DNS name.")
    List<String> fromFqdn;
    @Option(names = "--to-fqdn", paramLabel = "NAME", description = "Destination DNS name.")
    List<String> toFqdn;
    @Option(names = "--http-status", paramLabel = "CODE", description = "HTTP status, e.g. 404 or 5+.")
    List<String> httpStatus;
    @Option(names = "--http-method", paramLabel = "METHOD", description = "HTTP method.")
    List<String> httpMethod;
    @Option(names = "--http-path", paramLabel = "REGEX", description = "HTTP path (regular expression).")
    List<String> httpPath;
    @Option(names = "--traffic-direction", paramLabel = "DIR", description = "ingress or egress.")
    List<String> trafficDirection;
    @Option(names = "--node-name", paramLabel = "[CLUSTER/]NODE", description = "Node name (* wildcards).")
    List<String> nodeName;
    @Option(names = "--from-namespace", paramLabel = "NS", description = "Flows from pods in namespace NS.")
    List<String> fromNamespace;
    @Option(names = "--to-namespace", paramLabel = "NS", description = "Flows to pods in namespace NS.")
    List<String> toNamespace;
    @Option(names = {"-A", "--all-namespaces"}, arity = "0..1", paramLabel = "true", description = "Flows of every namespace.")
    List<String> allNamespaces;
    @Option(names = "--from-all-namespaces", arity = "0..1", paramLabel = "true", description = "Flows from every namespace.")
    List<String> fromAllNamespaces;
    @Option(names = "--to-all-namespaces", arity = "0..1", paramLabel = "true", description = "Flows to every namespace.")
    List<String> toAllNamespaces;
    @Option(names = "--from-cluster", paramLabel = "CLUSTER", description = "Flows from endpoints of the cluster.")
    List<String> fromCluster;
    @Option(names = "--to-cluster", paramLabel = "CLUSTER", description = "Flows to endpoints of the cluster.")
    List<String> toCluster;
    @Option(names = "--encrypted", arity = "0..1", paramLabel = "true", description = "Encrypted flows (WireGuard/IPsec).")
    List<String> encrypted;
    @Option(names = "--unencrypted", arity = "0..1", paramLabel = "true", description = "Unencrypted flows.")
    List<String> unencrypted;
    @Option(names = "--ip-trace-id", paramLabel = "ID", description = "IP trace ID.")
    List<String> ipTraceId;
    @Option(names = "--service", paramLabel = "[NS/]SVC", description = "Flows from or to the service.")
    List<String> service;
    @Option(names = "--from-service", paramLabel = "[NS/]SVC", description = "Flows from the service.")
    List<String> fromService;
    @Option(names = "--to-service", paramLabel = "[NS/]SVC", description = "Flows to the service.")
    List<String> toService;
    @Option(names = "--workload", paramLabel = "[KIND/]NAME", description = "Flows from or to the workload.")
    List<String> workload;
    @Option(names = "--from-workload", paramLabel = "[KIND/]NAME", description = "Flows from the workload.")
    List<String> fromWorkload;
    @Option(names = "--to-workload", paramLabel = "[KIND/]NAME", description = "Flows to the workload.")
    List<String> toWorkload;
    @Option(names = "--snat-ip", paramLabel = "IP|CIDR", description = "Translated source address.")
    List<String> snatIp;
    @Option(names = {"-4", "--ipv4"}, arity = "0..1", paramLabel = "v4", description = "IPv4 flows.")
    List<String> ipv4;
    @Option(names = {"-6", "--ipv6"}, arity = "0..1", paramLabel = "v6", description = "IPv6 flows.")
    List<String> ipv6;
    @Option(names = "--ip-version", paramLabel = "4|6", description = "Flows of the IP version.")
    List<String> ipVersion;
    @Option(names = "--http-url", paramLabel = "REGEX", description = "HTTP URL (regular expression).")
    List<String> httpUrl;
    @Option(names = "--http-header", paramLabel = "NAME:VALUE", description = "HTTP header.")
    List<String> httpHeader;
    @Option(names = "--node-label", paramLabel = "SELECTOR", description = "Label selector on the node.")
    List<String> nodeLabel;
    @Option(names = "--cluster", paramLabel = "CLUSTER", description = "Flows of the cluster's nodes.")
    List<String> cluster;
    @Option(names = "--tcp-flags", paramLabel = "FLAGS", description = "TCP flags, e.g. SYN or SYN,ACK.")
    List<String> tcpFlags;
    @Option(names = "--uuid", paramLabel = "UUID", description = "The flow with this UUID.")
    List<String> uuid;
    @Option(names = "--trace-id", paramLabel = "ID", description = "Trace ID of the flow's trace context.")
    List<String> traceId;
    @Option(names = "--interface", paramLabel = "NAME", description = "Network interface the flow was seen on.")
    List<String> iface;
    @Option(names = "--cel-expression", paramLabel = "EXPR", description = "CEL expression (not supported by Sieve's servers).")
    List<String> celExpression;
    @Option(names = "--not", arity = "0..1", paramLabel = "true", description = "Negate the next filter flag.")
    List<String> not;
    @Option(names = "--allowlist", paramLabel = "JSON", description = "Allowlist as JSON encoded FlowFilters (repeatable).")
    List<String> allowlist;
    @Option(names = "--denylist", paramLabel = "JSON", description = "Denylist as JSON encoded FlowFilters (repeatable).")
    List<String> denylist;
    @Option(names = "--print-raw-filters", description = "Print the allowlist/denylist filters and exit without asking the server.")
    boolean printRawFilters;
    @Option(names = "--field-mask", split = ",", paramLabel = "PATH[,PATH...]",
            description = "Fields of flow.Flow the server sends; the others are left out.")
    List<String> fieldMask;
    @Option(names = "--use-default-field-masks", arity = "0..1", fallbackValue = "true", defaultValue = "true", paramLabel = "BOOL",
            description = "Ask only for the fields compact, dict and table print (default ${DEFAULT-VALUE}).")
    boolean useDefaultFieldMasks;

    @Option(names = "--since", paramLabel = "TIME", description = "Flows since a duration ago (5m, 1h30m) or a timestamp (RFC 3339).")
    String since;
    @Option(names = "--until", paramLabel = "TIME", description = "Flows until a duration ago or a timestamp.")
    String until;
    @Option(names = "--first", paramLabel = "N", description = "The first N matching flows.")
    Long first;
    @Option(names = "--last", paramLabel = "N", description = "The last N matching flows (default 20).")
    Long last;
    @Option(names = "--all", description = "Every matching flow in the buffer.")
    boolean all;
    @Option(names = {"-f", "--follow"}, description = "Keep streaming new flows.")
    boolean follow;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "compact",
            description = "compact, dict, json, jsonpb or table (default ${DEFAULT-VALUE}).")
    String output;
    @Option(names = "--print-node-name", description = "Print the node name of each flow.")
    boolean printNodeName;
    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto", description = "auto (on a terminal), always or never.")
    String colorWhen;
    @Option(names = "--time-format", paramLabel = "FORMAT", defaultValue = "StampMilli",
            description = "StampMilli, RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano or RFC1123Z.")
    String timeFormat;
    @Option(names = "--utc", description = "Timestamps in UTC instead of local time.")
    boolean utc;
    @Option(names = "--print-policy-names", description = "Accepted for hubble compatibility.")
    boolean printPolicyNames;
    @Option(names = "--ip-translation", arity = "0..1", fallbackValue = "true", defaultValue = "true", paramLabel = "BOOL",
            description = "Print pod names instead of addresses where known (default ${DEFAULT-VALUE}).")
    boolean ipTranslation;
    @Option(names = "--numeric", description = "Print addresses and identities as numbers.")
    boolean numeric;
    @Option(names = {"-s", "--silent-errors"}, description = "Accepted for hubble compatibility.")
    boolean silentErrors;
    @Option(names = "--request-timeout", paramLabel = "DURATION", description = "Accepted for hubble compatibility.")
    String requestTimeout;
    @Option(names = "--timeout", paramLabel = "DURATION", description = "Accepted for hubble compatibility.")
    String dialTimeout;

    @Override
    public Integer call() {
        FlowPrinter.Output out = switch (output.toLowerCase(java.util.Locale.ROOT)) {
            case "compact" -> FlowPrinter.Output.COMPACT;
            case "dict" -> FlowPrinter.Output.DICT;
            case "json" -> FlowPrinter.Output.JSON;
            case "jsonpb" -> FlowPrinter.Output.JSONPB;
            case "table", "tab" -> FlowPrinter.Output.TABLE;
            default -> throw new UsageException("-o " + output + ": expected compact, dict, json, jsonpb or table");
        };
        ZoneId zone = utc ? ZoneOffset.UTC : dev.sieve.cli.Invocation.current().zone();
        FlowPrinter.formatter(timeFormat);
        int modes = (first != null ? 1 : 0) + (last != null ? 1 : 0) + (all ? 1 : 0);
        if (modes > 1) throw new UsageException("--first, --last and --all are mutually exclusive");
        if (first != null && follow) throw new UsageException("--first cannot be combined with --follow");
        if ((first != null && first <= 0) || (last != null && last < 0)) throw new UsageException("--first/--last need a positive number");

        GetFlowsRequest.Builder req = GetFlowsRequest.newBuilder().setFollow(follow);
        Instant now = Instant.now();
        if (since != null) req.setSince(TimeArgs.parse("--since", since, now, zone));
        if (until != null) req.setUntil(TimeArgs.parse("--until", until, now, zone));
        if (first != null) req.setFirst(true).setNumber(first);
        else if (last != null) req.setNumber(last);
        else if (!all && !follow && since == null && until == null) req.setNumber(20);
        boolean customMask = fieldMask != null && !fieldMask.isEmpty();
        if (customMask && out != FlowPrinter.Output.JSON && out != FlowPrinter.Output.JSONPB) {
            throw new UsageException(output + " output format is not compatible with custom field mask"); // as hubble says it
        }
        FilterArgs filters = FilterArgs.fromArgs(spec.commandLine().getParseResult().originalArgs());
        List<FlowFilter> white = new ArrayList<>(filters.whitelist()), black = new ArrayList<>(filters.blacklist());
        white.addAll(rawFilters("--allowlist", allowlist));
        black.addAll(rawFilters("--denylist", denylist));
        if (printRawFilters) {
            spec.commandLine().getOut().print(RawFilters.yaml(white, black));
            spec.commandLine().getOut().flush();
            return ExitCode.OK;
        }
        req.addAllWhitelist(white).addAllBlacklist(black);
        if (customMask) {
            req.setFieldMask(FieldMask.newBuilder().addAllPaths(fieldMask));
        } else if (useDefaultFieldMasks && (out == FlowPrinter.Output.COMPACT || out == FlowPrinter.Output.DICT || out == FlowPrinter.Output.TABLE)) {
            req.setFieldMask(FieldMask.newBuilder().addAllPaths(DEFAULT_FIELD_MASK));
        }

        PrintWriter pw = spec.commandLine().getOut();
        boolean color = switch (colorWhen) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> dev.sieve.cli.Invocation.current().stdoutTerminal();
            default -> throw new UsageException("--color " + colorWhen + ": expected auto, always or never");
        };
        FlowPrinter printer = new FlowPrinter(pw, out, color, printNodeName, timeFormat, zone, follow, ipTranslation && !numeric);
        try (ObserverClient client = new ObserverClient(server, tls)) {
            if (printer.json()) {
                client.getFlowsUntyped(req.build(), r -> {
                    printer.printJson(r);
                    if (follow) pw.flush();
                });
            } else {
                client.getFlows(req.build(), r -> {
                    printer.print(r);
                    if (follow) pw.flush();
                });
            }
        } finally {
            printer.close();
        }
        return ExitCode.OK;
    }
}
