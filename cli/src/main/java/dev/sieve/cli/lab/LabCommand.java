package dev.sieve.cli.lab;

import dev.sieve.cli.UsageException;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.ManifestLab;
import dev.sieve.lab.Pod;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sieve lab}: a local cluster of network namespaces that mirrors Pod manifests (needs root). */
@Command(name = "lab", mixinStandardHelpOptions = true,
        description = "Pods on this machine as network namespaces (root): up, exec, list, down.",
        subcommands = {LabCommand.Up.class, LabCommand.Exec.class, LabCommand.ListLabs.class, LabCommand.Down.class})
public final class LabCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static void requireRoot() {
        if (!Lab.canRun()) {
            throw new UsageException("the lab needs root and iproute2 (ip netns)");
        }
    }

    /** The prefix given, or the only live lab's. */
    static String resolvePrefix(String given) {
        if (given != null) {
            return given;
        }
        Map<String, Long> live = Lab.liveLabs();
        if (live.size() == 1) {
            return live.keySet().iterator().next();
        }
        throw new UsageException(live.isEmpty() ? "no lab is up (sieve lab up --manifests DIR)"
                : "several labs are up (" + String.join(", ", live.keySet()) + "): give --prefix");
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Create a pod per Pod manifest (its status addresses), an external host per API server address "
                    + "and --world hosts in 198.51.100.0/24; stays in the foreground and removes everything on Ctrl-C or 'sieve lab down'.")
    static final class Up implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--manifests", required = true, paramLabel = "DIR", description = "manifest files or directories")
        List<Path> manifests;

        @Option(names = "--prefix", paramLabel = "P", description = "lab name, 1-8 of [a-z0-9] (default: random)")
        String prefix;

        @Option(names = "--world", paramLabel = "N", defaultValue = "1", description = "external world hosts to add (default: ${DEFAULT-VALUE})")
        int world;

        @Option(names = "--detach-check-ms", hidden = true, defaultValue = "300")
        long checkMs;

        @Override
        public Integer call() throws Exception {
            requireRoot();
            ManifestSet set;
            try {
                set = ManifestParser.load(manifests);
            } catch (ValidationException e) {
                throw new UsageException(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            String p = prefix != null ? prefix : Lab.randomPrefix();
            try (Lab lab = Lab.create(p)) {
                Map<String, Pod> hosts = new java.util.LinkedHashMap<>(ManifestLab.populate(lab, set));
                for (int i = 0; i < world; i++) {
                    Pod w = lab.addExternal("world" + (i + 1));
                    hosts.put(w.name(), w);
                }
                out.printf("lab %s up: node namespace %s (%s)%n", p, lab.nodeNamespace(), Lab.NODE_IPV4);
                out.printf("%-28s %-22s %-16s %-26s %s%n", "POD", "LAB NAME", "IPV4", "IPV6", "HOST VETH");
                hosts.forEach((k, h) -> out.printf("%-28s %-22s %-16s %-26s %s%n", k, h.name(), h.ipv4(),
                        h.ipv6().orElse("-"), h.hostInterface()));
                out.printf("run 'sieve lab exec --prefix %s POD -- CMD...'; Ctrl-C or 'sieve lab down --prefix %s' removes it%n", p, p);
                out.flush();
                // stay up until interrupted (the lab's shutdown hook cleans up) or the node namespace is removed
                while (Lab.namespacesOf(p).contains(lab.nodeNamespace())) {
                    Thread.sleep(checkMs);
                }
                out.printf("lab %s removed%n", p);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true, description = "Run a command in a lab pod (by lab name, or namespace/name).")
    static final class Exec implements Callable<Integer> {
        @Option(names = "--prefix", paramLabel = "P", description = "lab name (default: the only lab up)")
        String prefix;

        @Parameters(index = "0", paramLabel = "POD")
        String pod;

        @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "the command, after --")
        List<String> command;

        @Override
        public Integer call() throws Exception {
            requireRoot();
            String p = resolvePrefix(prefix);
            String name = pod.contains("/") ? pod.substring(pod.indexOf('/') + 1) : pod;
            String ns = "sieve-" + p + "-" + name;
            if (!Lab.namespacesOf(p).contains(ns)) {
                throw new UsageException("no pod " + pod + " in lab " + p + " (sieve lab list)");
            }
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
            cmd.addAll(command);
            Process proc = new ProcessBuilder(cmd).inheritIO().start();
            return proc.waitFor();
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the labs that are up and their pods.")
    static final class ListLabs implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            requireRoot();
            PrintWriter out = spec.commandLine().getOut();
            Map<String, Long> live = Lab.liveLabs();
            if (live.isEmpty()) {
                out.println("no lab is up");
            }
            live.forEach((p, pid) -> {
                out.printf("lab %s (pid %d)%n", p, pid);
                for (String ns : Lab.namespacesOf(p)) {
                    String name = ns.substring(("sieve-" + p + "-").length());
                    String addr = name.equals("node") ? Lab.NODE_IPV4 : addresses(ns);
                    out.printf("  %-22s %s%n", name, addr);
                }
            });
            out.flush();
            return ExitCode.OK;
        }

        private static String addresses(String ns) {
            try {
                Process p = new ProcessBuilder("ip", "-n", ns, "-br", "addr", "show", "dev", "eth0").redirectErrorStream(true).start();
                String s = new String(p.getInputStream().readAllBytes()).strip();
                p.waitFor();
                String[] f = s.split("\\s+");
                return f.length > 2 ? String.join(" ", java.util.Arrays.copyOfRange(f, 2, f.length)) : "";
            } catch (Exception e) {
                return "";
            }
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Remove a lab: its pods, node, processes and pinned maps.")
    static final class Down implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = "--prefix", paramLabel = "P", description = "lab name (default: the only lab up)")
        String prefix;

        @Override
        public Integer call() {
            requireRoot();
            String p = resolvePrefix(prefix);
            boolean found = Lab.destroy(p);
            spec.commandLine().getOut().println(found ? "lab " + p + " removed" : "no lab " + p);
            return found ? ExitCode.OK : ExitCode.SOFTWARE;
        }
    }
}
