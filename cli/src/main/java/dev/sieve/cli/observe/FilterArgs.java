package dev.sieve.cli.observe;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.cli.UsageException;
import dev.sieve.flowfilter.FlowFilters;
import dev.sieve.flowfilter.HubbleFlags;
import dev.sieve.flowfilter.InvalidFilterException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The filter flags of a {@code sieve observe} command line, in command-line order, through {@link HubbleFlags}
 * (the same translation the relay's REST parameters use), then checked with {@link FlowFilters} so a bad value
 * fails here, before anything is sent.
 */
final class FilterArgs {

    private final List<FlowFilter> whitelist, blacklist;

    private FilterArgs(HubbleFlags flags) {
        this.whitelist = flags.whitelist();
        this.blacklist = flags.blacklist();
    }

    List<FlowFilter> whitelist() {
        return whitelist;
    }

    List<FlowFilter> blacklist() {
        return blacklist;
    }

    /** Reads the filter flags out of the raw arguments (which picocli has already parsed and checked). */
    static FilterArgs fromArgs(List<String> args) {
        List<Map.Entry<String, String>> flags = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--")) break;
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            name = switch (name) {
                case "-n" -> "--namespace";
                case "-A" -> "--all-namespaces";
                case "-4" -> "--ipv4";
                case "-6" -> "--ipv6";
                case "-l" -> "--label";
                case "-t" -> "--type";
                default -> name;
            };
            if (!name.startsWith("--") || !HubbleFlags.isFilterFlag(name.substring(2))) continue;
            String flag = name.substring(2);
            if (HubbleFlags.VALUE_FLAGS.contains(flag) && value == null) {
                if (i + 1 >= args.size()) throw new UsageException(name + " needs a value");
                value = args.get(++i);
            }
            flags.add(new java.util.AbstractMap.SimpleEntry<>(flag, value));
        }
        try {
            HubbleFlags h = HubbleFlags.of(flags);
            FlowFilters.validate(h.whitelist());
            FlowFilters.validate(h.blacklist());
            return new FilterArgs(h);
        } catch (InvalidFilterException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
