package dev.sieve.cli.observe;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.AgentEvent;
import dev.sieve.api.flow.DebugEvent;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.observer.GetAgentEventsRequest;
import dev.sieve.api.observer.GetAgentEventsResponse;
import dev.sieve.api.observer.GetDebugEventsRequest;
import dev.sieve.api.observer.GetDebugEventsResponse;
import dev.sieve.cli.UsageException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sieve observe agent-events} and {@code debug-events}: a node's control-plane events and datapath debug
 * events, printed as {@code hubble observe agent-events|debug-events} prints them (its printer's layouts, its
 * request: {@code --last} N, 20 by default, {@code --all}, {@code --since}/{@code --until}, {@code --follow}).
 */
abstract class EventsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = ObserverClient.DEFAULT_SERVER,
            description = "Observer API address: a node (:4244); the relay serves no events, as Hubble Relay.")
    String server;

    @picocli.CommandLine.Mixin
    TlsOptions tls = new TlsOptions();
    @Option(names = "--since", paramLabel = "TIME", description = "Events since a duration ago or a timestamp.")
    String since;
    @Option(names = "--until", paramLabel = "TIME", description = "Events until a duration ago or a timestamp.")
    String until;
    @Option(names = "--first", paramLabel = "N", description = "Accepted as hubble does (it asks for the last 20).")
    Long first;
    @Option(names = "--last", paramLabel = "N", description = "The last N events (default 20).")
    Long last;
    @Option(names = "--all", description = "Every buffered event.")
    boolean all;
    @Option(names = {"-f", "--follow"}, description = "Keep streaming new events.")
    boolean follow;
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "compact", description = "compact, dict, json, jsonpb or table.")
    String output;
    @Option(names = "--print-node-name", description = "Print the node name of each event.")
    boolean printNodeName;
    @Option(names = "--time-format", paramLabel = "FORMAT", defaultValue = "StampMilli", description = "As for flows.")
    String timeFormat;
    @Option(names = "--utc", description = "Timestamps in UTC instead of local time.")
    boolean utc;
    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto", description = "Accepted for hubble compatibility.")
    String color;
    @Option(names = {"-s", "--silent-errors"}, description = "Accepted for hubble compatibility.")
    boolean silentErrors;

    FlowPrinter.Output format;
    FlowPrinter times;
    PrintWriter out;
    int line;
    final List<String[]> rows = new ArrayList<>();

    /** number, since, until as hubble sends them for events. */
    record Window(long number, com.google.protobuf.Timestamp since, com.google.protobuf.Timestamp until) {}

    Window window() {
        format = switch (output.toLowerCase(java.util.Locale.ROOT)) {
            case "compact" -> FlowPrinter.Output.COMPACT;
            case "dict" -> FlowPrinter.Output.DICT;
            case "json" -> FlowPrinter.Output.JSON;
            case "jsonpb" -> FlowPrinter.Output.JSONPB;
            case "table", "tab" -> FlowPrinter.Output.TABLE;
            default -> throw new UsageException("-o " + output + ": expected compact, dict, json, jsonpb or table");
        };
        ZoneId zone = utc ? ZoneOffset.UTC : dev.sieve.cli.Invocation.current().zone();
        out = spec.commandLine().getOut();
        times = new FlowPrinter(out, FlowPrinter.Output.COMPACT, false, false, timeFormat, zone, false);
        Instant now = Instant.now();
        long number = all ? -1L : last != null ? last : 20; // hubble sends 20 for --first too
        return new Window(number, since == null ? null : TimeArgs.parse("--since", since, now, zone),
                until == null ? null : TimeArgs.parse("--until", until, now, zone));
    }

    /** One event in the chosen layout: TYPE and DETAILS for compact/dict/table; JSON prints the whole response. */
    void print(com.google.protobuf.Message response, com.google.protobuf.Timestamp time, String node, String[] compactParts,
               String[][] dictFields, String[] tableHeader, String[] tableCells) {
        switch (format) {
            case JSON, JSONPB -> out.println(HubbleJson.print(response));
            case COMPACT -> out.println(times.timestamp(time) + (printNodeName ? " [" + node + "]" : "") + ": " + String.join(" ", compactParts));
            case DICT -> {
                StringBuilder b = new StringBuilder();
                if (line > 0) b.append("------------"); // hubble writes its separator without a newline here
                b.append("  TIMESTAMP: ").append(times.timestamp(time)).append('\n');
                if (printNodeName) b.append("       NODE: ").append(node).append('\n');
                for (String[] kv : dictFields) b.append(kv[0]).append(kv[1]).append('\n');
                out.print(b);
            }
            case TABLE -> {
                List<String> header = new ArrayList<>(List.of("TIMESTAMP"));
                List<String> cells = new ArrayList<>(List.of(times.timestamp(time)));
                if (printNodeName) {
                    header.add("NODE");
                    cells.add(node);
                }
                header.addAll(List.of(tableHeader));
                cells.addAll(List.of(tableCells));
                if (line == 0) rows.add(header.toArray(String[]::new));
                rows.add(cells.toArray(String[]::new));
            }
        }
        line++;
        if (follow) flush();
    }

    void flush() {
        if (!rows.isEmpty()) out.print(FlowPrinter.align(rows));
        rows.clear();
        out.flush();
    }

    <T> void stream(Iterator<T> it, java.util.function.Consumer<T> each, ObserverClient client) {
        try {
            while (it.hasNext()) each.accept(it.next());
        } catch (StatusRuntimeException e) {
            throw client.failure(e);
        } finally {
            flush();
        }
    }

    @Command(name = "agent-events", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Observe the node agent's events (policy, endpoint and ipcache changes), like 'hubble observe agent-events'.")
    static final class Agent extends EventsCommand {
        @Override
        public Integer call() {
            Window w = window();
            GetAgentEventsRequest.Builder req = GetAgentEventsRequest.newBuilder().setNumber(w.number()).setFollow(follow);
            if (w.since() != null) req.setSince(w.since());
            if (w.until() != null) req.setUntil(w.until());
            try (ObserverClient client = new ObserverClient(server, tls)) {
                stream(client.blocking().getAgentEvents(req.build()), this::event, client);
            }
            return ExitCode.OK;
        }

        void event(GetAgentEventsResponse r) {
            AgentEvent e = r.getAgentEvent();
            String type = e.getType().name(), details = details(e);
            print(r, r.getTime(), r.getNodeName(), new String[] {type, "(" + details + ")"},
                    new String[][] {{"       TYPE: ", type}, {"    DETAILS: ", details}}, new String[] {"TYPE", "DETAILS"},
                    new String[] {type, details});
        }

        /** hubble's getAgentEventDetails. */
        String details(AgentEvent e) {
            switch (e.getType()) {
                case AGENT_EVENT_UNKNOWN -> {
                    if (e.hasUnknown()) return "type: " + e.getUnknown().getType() + ", notification: " + e.getUnknown().getNotification();
                }
                case AGENT_STARTED -> {
                    if (e.hasAgentStart()) return "start time: " + times.timestamp(e.getAgentStart().getTime());
                }
                case POLICY_UPDATED, POLICY_DELETED -> {
                    if (e.hasPolicyUpdate()) {
                        var p = e.getPolicyUpdate();
                        return "labels: [" + String.join(",", p.getLabelsList()) + "], revision: " + Long.toUnsignedString(p.getRevision())
                                + ", count: " + p.getRuleCount();
                    }
                }
                case ENDPOINT_REGENERATE_SUCCESS, ENDPOINT_REGENERATE_FAILURE -> {
                    if (e.hasEndpointRegenerate()) {
                        var r = e.getEndpointRegenerate();
                        String s = "id: " + Long.toUnsignedString(r.getId()) + ", labels: [" + String.join(",", r.getLabelsList()) + "]";
                        return r.getError().isEmpty() ? s : s + ", error: " + r.getError();
                    }
                }
                case ENDPOINT_CREATED, ENDPOINT_DELETED -> {
                    if (e.hasEndpointUpdate()) {
                        var u = e.getEndpointUpdate();
                        StringBuilder b = new StringBuilder("id: ").append(Long.toUnsignedString(u.getId()));
                        if (!u.getNamespace().isEmpty()) b.append(", namespace: ").append(u.getNamespace());
                        if (!u.getPodName().isEmpty()) b.append(", pod name: ").append(u.getPodName());
                        return b.toString();
                    }
                }
                case IPCACHE_UPSERTED, IPCACHE_DELETED -> {
                    if (e.hasIpcacheUpdate()) {
                        var i = e.getIpcacheUpdate();
                        StringBuilder b = new StringBuilder("cidr: ").append(i.getCidr()).append(", identity: ")
                                .append(Integer.toUnsignedString(i.getIdentity()));
                        if (i.hasOldIdentity()) b.append(", old identity: ").append(Integer.toUnsignedString(i.getOldIdentity().getValue()));
                        if (!i.getHostIp().isEmpty()) b.append(", host ip: ").append(i.getHostIp());
                        if (!i.getOldHostIp().isEmpty()) b.append(", old host ip: ").append(i.getOldHostIp());
                        return b.append(", encrypt key: ").append(Integer.toUnsignedString(i.getEncryptKey())).toString();
                    }
                }
                case SERVICE_DELETED -> {
                    if (e.hasServiceDelete()) return "id: " + Integer.toUnsignedString(e.getServiceDelete().getId());
                }
                default -> { }
            }
            return "UNKNOWN";
        }
    }

    @Command(name = "debug-events", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Observe datapath debug events, like 'hubble observe debug-events' (Sieve's datapath reports none).")
    static final class Debug extends EventsCommand {
        @Override
        public Integer call() {
            Window w = window();
            GetDebugEventsRequest.Builder req = GetDebugEventsRequest.newBuilder().setNumber(w.number()).setFollow(follow);
            if (w.since() != null) req.setSince(w.since());
            if (w.until() != null) req.setUntil(w.until());
            try (ObserverClient client = new ObserverClient(server, tls)) {
                stream(client.blocking().getDebugEvents(req.build()), this::event, client);
            }
            return ExitCode.OK;
        }

        void event(GetDebugEventsResponse r) {
            DebugEvent e = r.getDebugEvent();
            String from = endpoint(e.getSource()), type = e.getType().name();
            String mark = e.hasHash() ? "0x" + Integer.toHexString(e.getHash().getValue()) : "N/A";
            String cpu = e.hasCpu() ? String.format("%02d", e.getCpu().getValue()) : "N/A";
            print(r, r.getTime(), r.getNodeName(), new String[] {from, type, "MARK:", mark, "CPU:", cpu, "(" + e.getMessage() + ")"},
                    new String[][] {{"       TYPE: ", type}, {"       FROM: ", from}, {"       MARK: ", mark}, {"        CPU: ", cpu},
                            {"    MESSAGE: ", e.getMessage()}},
                    new String[] {"FROM", "", "TYPE", "CPU/MARK", "MESSAGE"}, new String[] {from, "", type, cpu + " " + mark, e.getMessage()});
        }

        static String endpoint(Endpoint ep) {
            String s = "ID: " + Integer.toUnsignedString(ep.getID());
            if (!ep.getNamespace().isEmpty() && !ep.getPodName().isEmpty()) return ep.getNamespace() + "/" + ep.getPodName() + " (" + s + ")";
            if (ep.getLabelsCount() == 1 && ep.getLabels(0).startsWith("reserved:")) return ep.getLabels(0) + " (" + s + ")";
            return s;
        }
    }
}
