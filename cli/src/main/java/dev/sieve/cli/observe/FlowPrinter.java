package dev.sieve.cli.observe;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.HubbleNames;
import dev.sieve.api.flow.Endpoint;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.observer.GetFlowsResponse;
import dev.sieve.cli.UsageException;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints flows in the layouts of hubble's printer ({@code hubble/pkg/printer/printer.go}):
 * <ul>
 *   <li>compact: {@code TIME [NODE]: SRC (ID) -> DST (ID) TYPE VERDICT (SUMMARY)}; replies flip the sides and
 *       use {@code <-}, unknown direction {@code <>}; reserved identities print as {@code (world)};</li>
 *   <li>dict: right-aligned {@code KEY: value} blocks separated by {@code ------------};</li>
 *   <li>table: TIMESTAMP [NODE] SOURCE DESTINATION TYPE VERDICT SUMMARY aligned like Go's tabwriter
 *       (padding 3), never coloured;</li>
 *   <li>json and jsonpb (its alias in hubble): the whole GetFlowsResponse, one object per line (proto field names,
 *       declaration order).</li>
 * </ul>
 * Hosts are {@code namespace/pod} when known, else the IP, with {@code :port} when there is one. TYPE is
 * the trace point ({@code to-endpoint}), the drop reason ({@code Policy denied}) or
 * {@code policy-verdict:MATCH DIRECTION}; policy verdicts print ALLOWED/DENIED/AUDITED.
 */
@SuppressWarnings("deprecation")
final class FlowPrinter {

    enum Output { COMPACT, DICT, JSON, JSONPB, TABLE }

    private static final String RESET = "\u001b[0m", RED = "\u001b[31m", GREEN = "\u001b[32m", YELLOW = "\u001b[33m",
            MAGENTA = "\u001b[35m", CYAN = "\u001b[36m";

    private final PrintWriter out;
    private final Output output;
    private final boolean color;
    private final boolean nodeName;
    private final DateTimeFormatter time;
    private final boolean trimNanos;
    private int line;
    private final List<String[]> rows = new ArrayList<>();
    private final boolean streamTable;
    private final boolean ipTranslation;

    FlowPrinter(PrintWriter out, Output output, boolean color, boolean nodeName, String timeFormat, ZoneId zone, boolean streamTable) {
        this(out, output, color, nodeName, timeFormat, zone, streamTable, true);
    }

    /** {@code ipTranslation} false: hosts are addresses, never pod or service names (hubble's --ip-translation=false). */
    FlowPrinter(PrintWriter out, Output output, boolean color, boolean nodeName, String timeFormat, ZoneId zone, boolean streamTable,
                boolean ipTranslation) {
        this.ipTranslation = ipTranslation;
        this.out = out;
        this.output = output;
        this.color = color && output != Output.TABLE && output != Output.JSON && output != Output.JSONPB;
        this.nodeName = nodeName;
        this.trimNanos = timeFormat.equals("RFC3339Nano");
        this.time = formatter(timeFormat).withZone(zone);
        this.streamTable = streamTable;
    }

    static DateTimeFormatter formatter(String name) {
        return switch (name) {
            case "StampMilli" -> DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss.SSS", Locale.US);
            case "RFC3339" -> DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssXXX", Locale.US);
            case "RFC3339Milli" -> DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX", Locale.US);
            case "RFC3339Micro" -> DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX", Locale.US);
            case "RFC3339Nano" -> DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX", Locale.US);
            case "RFC1123Z" -> DateTimeFormatter.ofPattern("EEE, dd MMM uuuu HH:mm:ss xx", Locale.US);
            default -> throw new UsageException("--time-format " + name
                    + ": expected StampMilli, RFC3339, RFC3339Milli, RFC3339Micro, RFC3339Nano or RFC1123Z");
        };
    }

    String timestamp(com.google.protobuf.Timestamp ts) {
        if (ts.getSeconds() == 0 && ts.getNanos() == 0) return "N/A";
        String s = time.format(Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()));
        if (trimNanos) { // Go's .999999999: trailing zeros (and a bare dot) dropped
            int dot = s.indexOf('.'), end = dot + 10;
            int k = end;
            while (k > dot + 1 && s.charAt(k - 1) == '0') k--;
            if (k == dot + 1) k = dot;
            s = s.substring(0, k) + s.substring(end);
        }
        return s;
    }

    void print(GetFlowsResponse r) {
        switch (r.getResponseTypesCase()) {
            case FLOW -> flow(r);
            case LOST_EVENTS -> lost(r);
            default -> { }
        }
    }

    /** JSON output of a response read as a DynamicMessage ({@link ObserverClient#getFlowsUntyped}): flows and lost events, as {@link #print}. */
    void printJson(com.google.protobuf.Message r) {
        var d = r.getDescriptorForType();
        var set = r.getOneofFieldDescriptor(d.findFieldByNumber(GetFlowsResponse.FLOW_FIELD_NUMBER).getContainingOneof());
        if (set == null || (set.getNumber() != GetFlowsResponse.FLOW_FIELD_NUMBER && set.getNumber() != GetFlowsResponse.LOST_EVENTS_FIELD_NUMBER)) return;
        out.println(HubbleJson.print(r));
        line++;
    }

    boolean json() {
        return output == Output.JSON || output == Output.JSONPB;
    }

    private void flow(GetFlowsResponse r) {
        Flow f = r.getFlow();
        switch (output) {
            case JSON, JSONPB -> out.println(HubbleJson.print(r)); // hubble: json is an alias of jsonpb
            case COMPACT -> {
                String src = host(f, true), dst = host(f, false);
                String srcId = identity(f.getSource()), dstId = identity(f.getDestination());
                String arrow = "->";
                if (!f.hasIsReply()) arrow = "<>";
                else if (f.getIsReply().getValue()) {
                    String t = src; src = dst; dst = t;
                    t = srcId; srcId = dstId; dstId = t;
                    arrow = "<-";
                }
                out.println(timestamp(f.getTime()) + (nodeName ? " [" + f.getNodeName() + "]" : "") + ": " + src + " " + srcId
                        + " " + arrow + " " + dst + " " + dstId + " " + type(f) + " " + verdict(f) + " (" + f.getSummary() + ")");
            }
            case DICT -> {
                if (line > 0) out.println("------------");
                out.println("  TIMESTAMP: " + timestamp(f.getTime()));
                if (nodeName) out.println("       NODE: " + f.getNodeName());
                out.println("     SOURCE: " + host(f, true));
                out.println("DESTINATION: " + host(f, false));
                out.println("       TYPE: " + type(f));
                out.println("    VERDICT: " + verdict(f));
                out.println("    SUMMARY: " + f.getSummary());
            }
            case TABLE -> {
                if (line == 0) rows.add(nodeName
                        ? new String[] {"TIMESTAMP", "NODE", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"}
                        : new String[] {"TIMESTAMP", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"});
                rows.add(nodeName
                        ? new String[] {timestamp(f.getTime()), f.getNodeName(), host(f, true), host(f, false), type(f), verdict(f), f.getSummary()}
                        : new String[] {timestamp(f.getTime()), host(f, true), host(f, false), type(f), verdict(f), f.getSummary()});
                if (streamTable) flushTable();
            }
        }
        line++;
    }

    private void lost(GetFlowsResponse r) {
        var l = r.getLostEvents();
        switch (output) {
            case JSON, JSONPB -> out.println(HubbleJson.print(r));
            case COMPACT -> out.println("EVENTS LOST: " + l.getSource() + " CPU(" + l.getCpu().getValue() + ") " + l.getNumEventsLost());
            case DICT -> {
                if (line > 0) out.println("------------");
                out.println("  TIMESTAMP: ");
                if (nodeName) out.println("       NODE: ");
                out.println("     SOURCE: " + l.getSource());
                out.println("       TYPE: EVENTS LOST");
                out.println("    VERDICT: ");
                out.println("    SUMMARY: CPU(" + l.getCpu().getValue() + ") - " + l.getNumEventsLost());
            }
            case TABLE -> {
                if (line == 0) rows.add(new String[] {"TIMESTAMP", "SOURCE", "DESTINATION", "TYPE", "VERDICT", "SUMMARY"});
                rows.add(new String[] {"", l.getSource().toString(), "", "EVENTS LOST", "", "CPU(" + l.getCpu().getValue() + ") - " + l.getNumEventsLost()});
                if (streamTable) flushTable();
            }
        }
        line++;
    }

    /** Writes buffered table rows, aligned like Go's tabwriter (minwidth 2, padding 3; last column unpadded). */
    void flushTable() {
        if (rows.isEmpty()) return;
        out.print(align(rows));
        rows.clear();
    }

    /** Rows aligned like Go's tabwriter as hubble sets it up (minwidth 2, padding 3; last column unpadded). */
    static String align(List<String[]> rows) {
        int cols = 0;
        for (String[] r : rows) cols = Math.max(cols, r.length);
        int[] w = new int[cols];
        for (String[] r : rows) for (int i = 0; i < r.length - 1; i++) w[i] = Math.max(w[i], Math.max(2, r[i].length()) + 3);
        StringBuilder b = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                b.append(r[i]);
                if (i < r.length - 1) b.repeat(' ', w[i] - r[i].length());
            }
            b.append(System.lineSeparator());
        }
        return b.toString();
    }

    void close() {
        flushTable();
        out.flush();
    }

    private String host(Flow f, boolean source) {
        if (!f.hasIP()) return "";
        Endpoint ep = source ? f.getSource() : f.getDestination();
        String ip = source ? f.getIP().getSource() : f.getIP().getDestination();
        var svc = source ? f.getSourceService() : f.getDestinationService();
        List<String> names = source ? f.getSourceNamesList() : f.getDestinationNamesList();
        String ns = ep.getNamespace();
        if (!svc.getName().isEmpty()) ns = svc.getNamespace();
        String host = ip;
        if (!ipTranslation) {
            // addresses only
        } else if (!ep.getPodName().isEmpty()) host = ns.isEmpty() ? ep.getPodName() : ns + "/" + ep.getPodName();
        else if (!svc.getName().isEmpty()) host = ns.isEmpty() ? svc.getName() : ns + "/" + svc.getName();
        else if (!names.isEmpty()) host = String.join(",", names);
        String port = port(f, source);
        String text;
        if (port != null && !port.equals("0")) {
            String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            text = c(CYAN, h) + ":" + c(YELLOW, port);
        } else {
            text = c(CYAN, host);
        }
        return text;
    }

    private static String port(Flow f, boolean source) {
        var l4 = f.getL4();
        return switch (l4.getProtocolCase()) {
            case TCP -> Integer.toString(source ? l4.getTCP().getSourcePort() : l4.getTCP().getDestinationPort());
            case UDP -> Integer.toString(source ? l4.getUDP().getSourcePort() : l4.getUDP().getDestinationPort());
            case SCTP -> Integer.toString(source ? l4.getSCTP().getSourcePort() : l4.getSCTP().getDestinationPort());
            default -> null;
        };
    }

    private String identity(Endpoint ep) {
        int id = ep.getIdentity();
        String name = switch (id) {
            case 0 -> "unknown";
            case 1 -> "host";
            case 2 -> "world";
            case 3 -> "unmanaged";
            case 4 -> "health";
            case 5 -> "init";
            case 6 -> "remote-node";
            case 7 -> "kube-apiserver";
            case 8 -> "ingress";
            case 9 -> "world-ipv4";
            case 10 -> "world-ipv6";
            default -> null;
        };
        return c(MAGENTA, name != null ? "(" + name + ")" : "(ID:" + Integer.toUnsignedString(id) + ")");
    }

    static String type(Flow f) {
        if (f.hasL7()) {
            String proto = switch (f.getL7().getRecordCase()) {
                case HTTP -> "http";
                case DNS -> "dns";
                case KAFKA -> "kafka";
                default -> "l7";
            };
            String t = f.getL7().getType().name().toLowerCase(Locale.ROOT);
            if (f.getL7().hasDns()) t += " " + f.getL7().getDns().getObservationSource();
            return proto + "-" + t;
        }
        int sub = f.getEventType().getSubType();
        return switch (f.getEventType().getType()) {
            case 4 -> HubbleNames.traceObservationPoint(sub);
            case 1 -> HubbleNames.dropReason(sub);
            case 5 -> "policy-verdict:" + HubbleNames.policyMatchType(f.getPolicyMatchType()) + " " + f.getTrafficDirection().name();
            case 3 -> f.getDebugCapturePoint().name();
            default -> "UNKNOWN";
        };
    }

    private String verdict(Flow f) {
        Verdict v = f.getVerdict();
        boolean pv = f.getEventType().getType() == 5;
        return switch (v) {
            case FORWARDED, REDIRECTED -> c(GREEN, pv ? "ALLOWED" : v.name());
            case DROPPED, ERROR -> c(RED, pv ? "DENIED" : v.name());
            case AUDIT -> c(YELLOW, pv ? "AUDITED" : v.name());
            default -> v.name();
        };
    }

    private String c(String code, String s) {
        return color ? code + s + RESET : s;
    }
}
