package dev.sieve.enforcer.datapath;

import dev.sieve.enforcer.netns.NetNs;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The policy routing that delivers packets the datapath hands to the L7 proxy: they carry the TO_PROXY mark
 * (0x200 in bits 8-11) and a destination that is not this node's (the original destination), so a rule sends
 * them to a table whose only route is "local": the stack delivers them to the socket the datapath assigned.
 * As Cilium: {@code ip rule add fwmark 0x200/0xf00 lookup 2004 pref 9} and
 * {@code ip route add local default dev lo table 2004}, for IPv4 and IPv6, in the datapath's namespace.
 *
 * <p>Also turns off early demux ({@code net.ipv4.ip_early_demux=0}, IPv4 and IPv6): it gives a packet arriving
 * from a pod the node's socket of the same tuple before routing, and a packet with a socket is never forwarded.
 * The proxy's transparent socket of a connection that the server's ingress redirects has the client's tuple, so
 * with early demux the client's packets after the SYN would be dropped on their way to the server's interface
 * (where sieve_to_pod turns them to the proxy).
 */
public final class ProxyRouting {

    public static final int TABLE = 2004;
    public static final String FWMARK = "0x200/0xf00";
    public static final int PRIORITY = 9;

    private ProxyRouting() {}

    /** Installs the rule and route for both families (idempotent). IPv6 failures are ignored when IPv6 is off. */
    public static void install(NetNs ns) {
        earlyDemux(ns, "0");
        for (String family : List.of("-4", "-6")) {
            boolean v6 = family.equals("-6");
            try {
                if (!ip(ns, family, "rule", "show", "fwmark", FWMARK, "lookup", String.valueOf(TABLE)).strip().isEmpty()) {
                    // present from a previous run
                } else {
                    ip(ns, family, "rule", "add", "fwmark", FWMARK, "lookup", String.valueOf(TABLE), "pref", String.valueOf(PRIORITY));
                }
                ip(ns, family, "route", "replace", "local", v6 ? "::/0" : "0.0.0.0/0", "dev", "lo", "table", String.valueOf(TABLE));
            } catch (IOException e) {
                if (!v6) throw new IllegalStateException("cannot install the L7 proxy's routing in " + ns + ": " + e.getMessage(), e);
            }
        }
    }

    /** Removes the rule and the table's route (for --cleanup-on-exit). */
    public static void remove(NetNs ns) {
        earlyDemux(ns, "1"); // the kernel's default
        for (String family : List.of("-4", "-6")) {
            try {
                ip(ns, family, "rule", "del", "fwmark", FWMARK, "lookup", String.valueOf(TABLE));
            } catch (IOException e) {
                // not there
            }
            try {
                ip(ns, family, "route", "flush", "table", String.valueOf(TABLE));
            } catch (IOException e) {
                // not there
            }
        }
    }

    private static final java.util.regex.Pattern DEV = java.util.regex.Pattern.compile("\"dev\"\\s*:\\s*\"([^\"]+)\"");

    /** The interfaces of the namespace's IPv4 and IPv6 default routes (the node's uplinks); empty without any. */
    public static List<String> defaultRouteInterfaces(NetNs ns) {
        List<String> out = new ArrayList<>();
        for (String family : List.of("-4", "-6")) {
            try {
                var m = DEV.matcher(ip(ns, "-j", family, "route", "show", "default"));
                while (m.find()) if (!out.contains(m.group(1)) && !m.group(1).equals("lo")) out.add(m.group(1));
            } catch (IOException e) {
                // no such family
            }
        }
        return out;
    }

    /**
     * accept_local on a pod's host veth, run in the datapath's namespace: a connection from the node itself to
     * a pod whose ingress redirects comes back in at the pod's veth (the hairpin) with a source address of the
     * node, which the stack drops as martian without it. Pods cannot use it: their sources are checked first.
     */
    static void acceptLocal(String ifname) {
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/net/ipv4/conf", ifname, "accept_local"), "1");
        } catch (IOException | RuntimeException e) {
            // no IPv4 on it: nothing to accept
        }
    }

    private static void earlyDemux(NetNs ns, String value) {
        // /proc/sys/net is the namespace of the thread that opens it
        ns.run(() -> {
            try {
                java.nio.file.Files.writeString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_early_demux"), value);
            } catch (IOException e) {
                throw new IllegalStateException("cannot set net.ipv4.ip_early_demux in " + ns + ": " + e.getMessage(), e);
            }
        });
    }

    private static String ip(NetNs ns, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        if (!ns.isCurrent()) cmd.addAll(List.of("-n", ns.name()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
            if (p.exitValue() != 0) throw new IOException(String.join(" ", cmd) + ": " + out.strip());
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
