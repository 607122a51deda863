package dev.sieve.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A pod: a network namespace with one interface {@code eth0}, a /32 (and /128) address and a
 * default route through the node, like a CNI plugin sets it up. {@link #hostInterface()} is the
 * node-side end of its veth pair, where the datapath attaches.
 */
public final class Pod {
    private final Lab lab;
    private final String name;
    private final String namespace;
    private final String ipv4;
    private final String ipv6;
    private final String hostInterface;

    Pod(Lab lab, String name, String namespace, String ipv4, String ipv6, String hostInterface) {
        this.lab = lab;
        this.name = name;
        this.namespace = namespace;
        this.ipv4 = ipv4;
        this.ipv6 = ipv6;
        this.hostInterface = hostInterface;
    }

    public String name() {
        return name;
    }

    /** Name of the pod's network namespace (as listed by {@code ip netns list}). */
    public String namespace() {
        return namespace;
    }

    public String ipv4() {
        return ipv4;
    }

    public Optional<String> ipv6() {
        return Optional.ofNullable(ipv6);
    }

    /** Name of the node-side veth, in the lab's node namespace. */
    public String hostInterface() {
        return hostInterface;
    }

    /** Runs a command inside the pod's network namespace and waits for it (20 s at most). */
    public ExecResult exec(String... cmd) {
        return exec(Shell.DEFAULT_TIMEOUT, cmd);
    }

    public ExecResult exec(Duration timeout, String... cmd) {
        return Shell.run(timeout, null, inNamespace(cmd));
    }

    /** Starts a long-running command (a server) in the pod; the lab kills it on close. */
    public BackgroundProcess start(String... cmd) {
        try {
            Path out = Files.createTempFile("sieve-lab-" + name + "-", ".out");
            Path err = Files.createTempFile("sieve-lab-" + name + "-", ".err");
            Process p = new ProcessBuilder(inNamespace(cmd))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.PIPE)
                    .start();
            BackgroundProcess bp = new BackgroundProcess(p, out, err, name + ": " + String.join(" ", cmd));
            lab.track(bp);
            return bp;
        } catch (IOException e) {
            throw new LabException("cannot start " + String.join(" ", cmd) + " in pod " + name + ": " + e.getMessage(), e);
        }
    }

    private List<String> inNamespace(String... cmd) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(cmd));
        return full;
    }

    @Override
    public String toString() {
        return "Pod[" + name + " " + ipv4 + (ipv6 != null ? " " + ipv6 : "") + " via " + hostInterface + "]";
    }
}
