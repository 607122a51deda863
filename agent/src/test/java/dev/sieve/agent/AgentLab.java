package dev.sieve.agent;

import dev.sieve.api.flow.Flow;
import dev.sieve.api.flow.FlowType;
import dev.sieve.api.flow.L7FlowType;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.lab.ExecResult;
import dev.sieve.lab.Lab;
import dev.sieve.lab.Pod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The end-to-end tests' node: a lab (pods as network namespaces, named with a unique prefix), a folder of
 * manifests and the real agent enforcing them in the lab's node namespace; {@link #close()} removes all of it,
 * pins and state included. Plus what the L7 tests ask of it: curl in a pod, the node's flows.
 */
final class AgentLab implements AutoCloseable {

    final Lab lab;
    final Path dir;
    final Path manifests;
    Agent agent;

    private AgentLab(Lab lab, Path dir) throws IOException {
        this.lab = lab;
        this.dir = dir;
        this.manifests = Files.createDirectories(dir.resolve("manifests"));
    }

    /** A new lab and temp folder; the caller adds pods and manifests, then {@link #start}s the agent. */
    static AgentLab create(String name) throws IOException {
        Path dir = Files.createTempDirectory("sieve-" + name);
        try {
            return new AgentLab(Lab.create(Lab.claimRandomPrefix()), dir);
        } catch (RuntimeException | IOException e) {
            delete(dir);
            throw e;
        }
    }

    /** The checkout (examples/, scripts/). */
    static Path repo() {
        return Path.of(System.getProperty("sieve.repo.dir", "..")).toAbsolutePath().normalize();
    }

    /** Copies a file of the checkout into the manifests. */
    AgentLab manifest(String repoPath) throws IOException {
        Path from = repo().resolve(repoPath);
        Files.copy(from, manifests.resolve(from.getFileName()));
        return this;
    }

    AgentLab manifest(String fileName, String yaml) throws IOException {
        Files.writeString(manifests.resolve(fileName), yaml);
        return this;
    }

    /** Starts the agent on the manifests, with {@code more} options after the lab's. */
    Agent start(String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("--node-name", "node-1", "--manifests", manifests.toString(),
                "--netns", lab.nodeNamespace(), "--pin-prefix", lab.prefix(), "--observer-address", "127.0.0.1:0",
                "--metrics-address", "127.0.0.1:0", "--cleanup-on-exit"));
        args.addAll(List.of(more));
        agent = new Agent(AgentOptions.parse(args.toArray(String[]::new), Map.of()));
        return agent;
    }

    @Override
    public void close() throws Exception {
        try {
            if (agent != null) agent.close();
        } finally {
            try {
                lab.close();
                Datapath.unpinAll(DatapathConfig.of(lab.prefix()));
            } finally {
                delete(dir);
            }
        }
    }

    private static void delete(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** curl's status code on the first line, then the body ({@code 000} when there was no answer). */
    static ExecResult curl(Pod from, String method, String url, String... more) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-m", "5", "-w", "\\n%{http_code}", "-o", "-", "-X", method));
        cmd.addAll(List.of(more));
        cmd.add(url);
        ExecResult r = from.exec(Duration.ofSeconds(15), cmd.toArray(String[]::new));
        String out = r.stdout();
        int nl = out.lastIndexOf('\n');
        return new ExecResult(r.exitCode(), out.substring(nl + 1).strip() + "\n" + out.substring(0, Math.max(nl, 0)), r.stderr());
    }

    /** http://ADDRESS:PORT with IPv6 addresses in brackets. */
    static String url(String address, int port, String path) {
        return "http://" + (address.contains(":") ? "[" + address + "]" : address) + ":" + port + path;
    }

    /** The node's flows that match, once there is one (events reach the buffer a few ms after the packets), or none in 5 s. */
    List<Flow> flows(Predicate<Flow> p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<Flow> out = matching(p);
        while (out.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            out = matching(p);
        }
        return out;
    }

    private List<Flow> matching(Predicate<Flow> p) {
        List<Flow> out = new ArrayList<>();
        for (long q = agent.ring().oldestSeq(); q < agent.ring().nextSeq(); q++) {
            var e = agent.ring().get(q);
            if (e != null && p.test(e.flow())) out.add(e.flow());
        }
        return out;
    }

    static boolean httpRequest(Flow f, String method, String pathSuffix) {
        return f.getType() == FlowType.L7 && f.getL7().getType() == L7FlowType.REQUEST && f.getL7().hasHttp()
                && f.getL7().getHttp().getMethod().equals(method) && f.getL7().getHttp().getUrl().endsWith(pathSuffix);
    }
}
