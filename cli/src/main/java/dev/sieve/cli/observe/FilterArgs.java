package dev.sieve.cli.observe;

import dev.sieve.api.flow.DropReason;
import dev.sieve.api.flow.EventTypeFilter;
import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.TrafficDirection;
import dev.sieve.api.flow.Verdict;
import dev.sieve.cli.UsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Turns hubble-observe filter flags, in command-line order, into a whitelist and a blacklist the way hubble
 * does: each list keeps a "left" and a "right" FlowFilter. A flag that names either side ({@code --pod},
 * {@code --ip}, {@code --label}, {@code --namespace}, {@code --port}, {@code --identity}, {@code --fqdn}) puts
 * its source form into the left filter and its destination form into the right one; every other flag
 * ({@code --from-*}, {@code --to-*}, {@code --verdict}, ...) goes into both. So flags AND together, and
 * "either side" ORs. {@code --not} sends the next filter flag to the blacklist.
 */
final class FilterArgs {

    /** Filter flags that take a value. */
    static final Set<String> FLAGS = Set.of("--verdict", "--drop-reason-desc", "--namespace", "--pod", "--from-pod", "--to-pod",
            "--label", "--from-label", "--to-label", "--ip", "--from-ip", "--to-ip", "--port", "--from-port", "--to-port",
            "--protocol", "--type", "--identity", "--from-identity", "--to-identity", "--fqdn", "--from-fqdn", "--to-fqdn",
            "--http-status", "--http-method", "--http-path", "--traffic-direction", "--node-name");

    private static final class Tracker {
        FlowFilter.Builder left, right;

        void both(Consumer<FlowFilter.Builder> f) {
            left(f);
            right(f);
        }

        void left(Consumer<FlowFilter.Builder> f) {
            if (left == null) left = FlowFilter.newBuilder();
            f.accept(left);
        }

        void right(Consumer<FlowFilter.Builder> f) {
            if (right == null) right = FlowFilter.newBuilder();
            f.accept(right);
        }

        List<FlowFilter> filters() {
            List<FlowFilter> out = new ArrayList<>();
            if (left == null) return out;
            FlowFilter l = left.build(), r = right.build();
            out.add(l);
            if (!l.equals(r)) out.add(r);
            return out;
        }
    }

    private final Tracker white = new Tracker();
    private final Tracker black = new Tracker();
    private boolean negate;

    List<FlowFilter> whitelist() {
        return white.filters();
    }

    List<FlowFilter> blacklist() {
        return black.filters();
    }

    /** Reads the filter flags out of the raw arguments (which picocli has already validated). */
    static FilterArgs fromArgs(List<String> args) {
        FilterArgs f = new FilterArgs();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) break;
            if (a.equals("--not")) {
                f.not();
                continue;
            }
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!FLAGS.contains(name)) continue;
            if (value == null) {
                if (i + 1 >= args.size()) throw new UsageException(name + " needs a value");
                value = args.get(++i);
            }
            f.add(name, value);
        }
        if (f.negate) throw new UsageException("--not must be followed by a filter flag");
        return f;
    }

    void not() {
        if (negate) throw new UsageException("--not --not: negate a filter once");
        negate = true;
    }

    void add(String flag, String value) {
        Tracker t = negate ? black : white;
        negate = false;
        String v = value.trim();
        switch (flag) {
            case "--verdict" -> {
                Verdict verdict = enumValue(flag, v, Verdict.class);
                t.both(b -> b.addVerdict(verdict));
            }
            case "--drop-reason-desc" -> {
                DropReason r = enumValue(flag, v, DropReason.class);
                t.both(b -> b.addDropReasonDesc(r));
            }
            case "--traffic-direction" -> {
                TrafficDirection d = enumValue(flag, v, TrafficDirection.class);
                t.both(b -> b.addTrafficDirection(d));
            }
            case "--namespace" -> {
                if (v.isEmpty() || v.contains("/")) throw new UsageException(flag + " " + value + ": expected a namespace name");
                t.left(b -> b.addSourcePod(v + "/"));
                t.right(b -> b.addDestinationPod(v + "/"));
            }
            case "--pod" -> {
                t.left(b -> b.addSourcePod(v));
                t.right(b -> b.addDestinationPod(v));
            }
            case "--from-pod" -> t.both(b -> b.addSourcePod(v));
            case "--to-pod" -> t.both(b -> b.addDestinationPod(v));
            case "--label" -> {
                t.left(b -> b.addSourceLabel(v));
                t.right(b -> b.addDestinationLabel(v));
            }
            case "--from-label" -> t.both(b -> b.addSourceLabel(v));
            case "--to-label" -> t.both(b -> b.addDestinationLabel(v));
            case "--ip" -> {
                t.left(b -> b.addSourceIp(v));
                t.right(b -> b.addDestinationIp(v));
            }
            case "--from-ip" -> t.both(b -> b.addSourceIp(v));
            case "--to-ip" -> t.both(b -> b.addDestinationIp(v));
            case "--port" -> {
                port(flag, v);
                t.left(b -> b.addSourcePort(v));
                t.right(b -> b.addDestinationPort(v));
            }
            case "--from-port" -> t.both(b -> b.addSourcePort(port(flag, v)));
            case "--to-port" -> t.both(b -> b.addDestinationPort(port(flag, v)));
            case "--identity" -> {
                int id = identity(flag, v);
                t.left(b -> b.addSourceIdentity(id));
                t.right(b -> b.addDestinationIdentity(id));
            }
            case "--from-identity" -> t.both(b -> b.addSourceIdentity(identity(flag, v)));
            case "--to-identity" -> t.both(b -> b.addDestinationIdentity(identity(flag, v)));
            case "--fqdn" -> {
                t.left(b -> b.addSourceFqdn(v));
                t.right(b -> b.addDestinationFqdn(v));
            }
            case "--from-fqdn" -> t.both(b -> b.addSourceFqdn(v));
            case "--to-fqdn" -> t.both(b -> b.addDestinationFqdn(v));
            case "--protocol" -> t.both(b -> b.addProtocol(v));
            case "--type" -> {
                EventTypeFilter et = eventType(v);
                t.both(b -> b.addEventType(et));
            }
            case "--http-status" -> t.both(b -> b.addHttpStatusCode(v));
            case "--http-method" -> t.both(b -> b.addHttpMethod(v));
            case "--http-path" -> t.both(b -> b.addHttpPath(v));
            case "--node-name" -> t.both(b -> b.addNodeName(v));
            default -> throw new IllegalStateException(flag);
        }
    }

    private static <E extends Enum<E>> E enumValue(String flag, String v, Class<E> type) {
        String name = v.toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(name) && !name.equals("UNRECOGNIZED")) return e;
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            if (!e.name().equals("UNRECOGNIZED") && !e.name().endsWith("UNKNOWN") && names.size() < 8) names.add(e.name());
        }
        throw new UsageException(flag + " " + v + ": unknown value (e.g. " + String.join(", ", names) + (type == DropReason.class ? ", ..." : "") + ")");
    }

    private static String port(String flag, String v) {
        try {
            int p = Integer.parseInt(v);
            if (p >= 0 && p <= 65535) return v;
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageException(flag + " " + v + ": expected a port number 0-65535");
    }

    private static int identity(String flag, String v) {
        try {
            long id = Long.parseLong(v);
            if (id >= 0 && id <= 0xffffffffL) return (int) id;
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new UsageException(flag + " " + v + ": expected a numeric security identity");
    }

    /** hubble's {@code --type} values: {@code trace[:point]}, {@code drop}, {@code policy-verdict}, {@code l7}, ... */
    static EventTypeFilter eventType(String v) {
        String[] parts = v.toLowerCase(Locale.ROOT).split(":", 2);
        int type = switch (parts[0]) {
            case "drop" -> 1;
            case "debug" -> 2;
            case "capture" -> 3;
            case "trace" -> 4;
            case "policy-verdict" -> 5;
            case "trace-sock", "sock" -> 7;
            case "l7" -> 129;
            case "agent" -> 130;
            default -> throw new UsageException("--type " + v + ": expected trace[:POINT], drop, policy-verdict, l7, capture, debug or trace-sock");
        };
        EventTypeFilter.Builder b = EventTypeFilter.newBuilder().setType(type);
        if (parts.length == 2) {
            int sub;
            try {
                sub = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                sub = switch (parts[1]) {
                    case "to-endpoint" -> 0;
                    case "to-proxy" -> 1;
                    case "to-host" -> 2;
                    case "to-stack" -> 3;
                    case "to-overlay" -> 4;
                    case "from-endpoint" -> 5;
                    case "from-proxy" -> 6;
                    case "from-host" -> 7;
                    case "from-stack" -> 8;
                    case "from-overlay" -> 9;
                    case "from-network" -> 10;
                    case "to-network" -> 11;
                    default -> throw new UsageException("--type " + v + ": unknown sub type " + parts[1]);
                };
            }
            b.setMatchSubType(true).setSubType(sub);
        }
        return b.build();
    }
}
