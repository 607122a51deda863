package dev.sieve.enforcer.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sieve.enforcer.datapath.BpfAssumptions;
import dev.sieve.enforcer.datapath.Datapath;
import dev.sieve.enforcer.datapath.DatapathConfig;
import dev.sieve.enforcer.endpoint.EndpointManager;
import dev.sieve.enforcer.events.VerdictEvent;
import dev.sieve.enforcer.events.VerdictEventReader;
import dev.sieve.enforcer.netns.NetNs;
import dev.sieve.lab.BackgroundProcess;
import dev.sieve.lab.Lab;
import dev.sieve.lab.ManifestLab;
import dev.sieve.lab.Pod;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.compute.RuleInfo;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.net.Cidr;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Predicate;

/**
 * A lab that mirrors a cluster manifest, enforced by the real engine: one lab pod per Pod manifest
 * (the manifest's addresses), extra world hosts, a {@link PolicyEngine} fed with the cluster plus
 * the policies of the moment, an {@link EndpointManager} that programs the datapath in the lab's
 * node namespace, and a thread that collects the ring buffer's verdict events. {@link #close()}
 * detaches, unpins and removes every namespace, also after a failed start.
 */
final class EngineLab implements AutoCloseable {
    static final String NODE_NAME = "node-1";
    static final int PROXY_PORT = 15001;
    static final Path REPO = Path.of(System.getProperty("sieve.bpf.src", "../bpf")).toAbsolutePath().normalize().getParent();

    final Lab lab;
    final Map<String, Pod> hosts = new LinkedHashMap<>();
    final List<BackgroundProcess> servers = new ArrayList<>();
    final ConcurrentLinkedQueue<VerdictEvent> events = new ConcurrentLinkedQueue<>();
    PolicyEngine engine;
    DatapathConfig config;
    Datapath dp;
    EndpointManager manager;
    private VerdictEventReader reader;
    private Thread poller;
    private volatile boolean polling = true;
    private String cluster;

    private EngineLab(Lab lab) {
        this.lab = lab;
    }

    /**
     * Starts a lab for {@code clusterYaml} (node name {@link #NODE_NAME}; give its Node the address
     * {@link Lab#NODE_IPV4}) with the given external world hosts (name -> IPv4, IPv6 made alike).
     */
    static EngineLab start(String clusterYaml, Map<String, String> worldHosts) {
        BpfAssumptions.assumeBpfUsable();
        EngineLab l = new EngineLab(Lab.create());
        try {
            l.cluster = clusterYaml;
            ManifestSet set = parse(clusterYaml);
            l.hosts.putAll(ManifestLab.populate(l.lab, set));
            worldHosts.forEach((name, v4) -> l.hosts.put(name, l.lab.addExternal(name, v4,
                    "2001:db8:51::" + Integer.toHexString(Integer.parseInt(v4.substring(v4.lastIndexOf('.') + 1))))));
            l.config = DatapathConfig.of("e2e-" + l.lab.prefix()).withNetns(NetNs.named(l.lab.nodeNamespace()));
            l.dp = BpfAssumptions.openOrSkip(l.config);
            l.engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, NODE_NAME);
            l.engine.load(set);
            l.manager = new EndpointManager(l.dp, NODE_NAME, PROXY_PORT);
            l.reader = l.dp.openEventReader(e -> l.events.add(e.toEvent()));
            l.poller = Thread.ofPlatform().daemon().name("e2e-verdict-events").start(() -> {
                while (l.polling) {
                    l.reader.poll(20);
                }
            });
            l.sync();
            return l;
        } catch (RuntimeException | Error e) {
            l.close();
            throw e;
        }
    }

    static String read(String repoRelative) {
        try {
            return Files.readString(REPO.resolve(repoRelative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ManifestSet parse(String... texts) {
        try {
            return ManifestParser.parse("e2e.yaml", String.join("\n---\n", texts));
        } catch (ValidationException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    Pod host(String keyOrName) {
        Pod p = hosts.get(keyOrName);
        if (p == null) {
            throw new IllegalArgumentException("no lab host " + keyOrName + " in " + hosts.keySet());
        }
        return p;
    }

    /** Starts echo servers on {@code ports} in the given hosts. */
    void serve(List<String> hostKeys, int... ports) {
        for (String k : hostKeys) {
            servers.add(dev.sieve.lab.Traffic.startEchoServer(host(k), ports));
        }
    }

    /** The cluster manifest as it is now plus {@code policies} (YAML texts) become the engine's state; then the kernel's. */
    void apply(String... policies) {
        List<String> all = new ArrayList<>(List.of(cluster));
        all.addAll(List.of(policies));
        engine.sync(parse(all.toArray(String[]::new)));
        sync();
    }

    /** Replaces the cluster manifest (e.g. to annotate a namespace) and applies it with {@code policies}. */
    void applyCluster(String clusterYaml, String... policies) {
        cluster = clusterYaml;
        apply(policies);
    }

    String cluster() {
        return cluster;
    }

    EndpointManager.SyncReport sync() {
        EndpointManager.SyncReport r = manager.sync(engine);
        assertThat(r.errors()).as("endpoint sync errors").isEmpty();
        return r;
    }

    /** Forgets conntrack state and collected events (a fresh start for a test). */
    void reset() {
        dp.flushConntrack(0);
        events.clear();
    }

    int identity(String podKey) {
        return engine.endpoint(podKey).identity().id();
    }

    int identityOfIp(String ip) {
        return engine.identityOf(Cidr.parseAddress(ip));
    }

    String policyOfRule(int ruleId) {
        RuleInfo r = engine.rules().lookup(ruleId);
        return r == null ? null : r.policy().name();
    }

    /** Waits (3 s at most) for an event matching {@code p}. */
    VerdictEvent await(String what, Predicate<VerdictEvent> p) {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (true) {
            Optional<VerdictEvent> e = events.stream().filter(p).findFirst();
            if (e.isPresent()) {
                return e.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no event " + what + " among " + events.size() + " events:\n"
                        + String.join("\n", events.stream().map(VerdictEvent::toString).toList()));
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5); // polling the collected queue, not standing in for a condition
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", ie);
            }
        }
    }

    /** Events of one flow's first direction (not replies): from {@code src} to {@code dst}, {@code proto}, dport (-1 any). */
    static Predicate<VerdictEvent> flow(String src, String dst, int proto, int dport) {
        return e -> !e.isReply() && e.protocol() == proto && (dport < 0 || e.dstPort() == dport)
                && same(e.source(), src) && same(e.destination(), dst);
    }

    static boolean same(InetAddress a, String ip) {
        try {
            return a.equals(InetAddress.getByName(ip));
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    @Override
    public void close() {
        polling = false;
        try {
            if (poller != null) {
                poller.join(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (reader != null) {
            reader.close();
        }
        servers.forEach(BackgroundProcess::close);
        if (dp != null) {
            for (String ifname : manager == null ? List.<String>of() : manager.attached().values()) {
                try {
                    dp.detach(ifname);
                } catch (RuntimeException ignored) {
                    // the namespace goes next anyway
                }
            }
            dp.close();
        }
        if (config != null) {
            Datapath.unpinAll(config);
        }
        String prefix = lab.prefix();
        lab.close();
        assertThat(Lab.namespacesOf(prefix)).as("lab namespaces removed").isEmpty();
        if (config != null) {
            assertThat(Files.exists(config.pinDir())).as("pinned maps removed").isFalse();
        }
    }
}
