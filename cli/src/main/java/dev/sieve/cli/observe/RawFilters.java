package dev.sieve.cli.observe;

import dev.sieve.api.HubbleJson;
import dev.sieve.api.flow.FlowFilter;
import java.util.List;

/** {@code --print-raw-filters}: the filters as hubble prints them, YAML lists of single-quoted JSON FlowFilters. */
final class RawFilters {

    private RawFilters() {}

    static String yaml(List<FlowFilter> allow, List<FlowFilter> deny) {
        if (allow.isEmpty() && deny.isEmpty()) return "{}\n";
        StringBuilder b = new StringBuilder();
        section(b, "allowlist", allow);
        section(b, "denylist", deny);
        return b.toString();
    }

    private static void section(StringBuilder b, String name, List<FlowFilter> filters) {
        if (filters.isEmpty()) return;
        b.append(name).append(":\n");
        for (FlowFilter f : filters) b.append("    - '").append(HubbleJson.print(f).replace("'", "''")).append("'\n");
    }
}
