package dev.sieve.cli.policy;

import dev.sieve.policy.trace.DropReason;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Verdict;
import java.io.PrintWriter;

/** The readable form of a trace result. */
final class TraceText {

    private TraceText() {}

    static void print(PrintWriter out, TraceResult r, TraceRequest req) {
        out.printf("%s  %s -> %s  %d/%s%n", r.verdict(), r.source().spec(), r.destination().spec(), req.port(), req.protocol());
        side(out, "source", r.source());
        side(out, "destination", r.destination());
        direction(out, "egress", r.egress());
        direction(out, "ingress", r.ingress());
        if (r.l7() != null) {
            out.printf("  %-12s %s  %s%n", "l7", r.l7().verdict(), r.l7().reason());
        }
        out.printf("  %-12s %s%n", "reason", r.reason());
    }

    private static void side(PrintWriter out, String name, TraceResult.Side s) {
        out.printf("  %-12s identity %d%s  %s%n", name, s.identity(), s.endpoint() == null ? "" : " (pod " + s.endpoint() + ")",
                String.join(", ", s.labels()));
    }

    private static void direction(PrintWriter out, String name, TraceResult.DirectionResult d) {
        if (d.verdict() == Verdict.NONE) {
            out.printf("  %-12s -  %s%n", name, d.reason());
            return;
        }
        out.printf("  %-12s %s  %s%s%n", name, d.verdict(), d.reason(),
                d.dropReason() == 0 ? "" : " [drop reason " + d.dropReason() + " " + dropReasonName(d.dropReason()) + "]");
        if (!d.policies().isEmpty()) out.printf("  %-12s %s%n", "", "policies: " + String.join(", ", d.policies()));
    }

    static String dropReasonName(int code) {
        for (DropReason r : DropReason.values()) if (r.code == code && code != 0) return r.name();
        return null;
    }
}
