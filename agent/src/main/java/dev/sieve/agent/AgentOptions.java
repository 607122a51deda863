package dev.sieve.agent;

import dev.sieve.enforcer.datapath.AggregationLevel;
import dev.sieve.enforcer.datapath.LocalDelivery;
import dev.sieve.policy.compute.EnforcementMode;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The agent's settings. Flags win over environment variables ({@code SIEVE_NODE_NAME}, {@code SIEVE_MANIFESTS}
 * (colon-separated), {@code SIEVE_OBSERVER_ADDRESS}, {@code SIEVE_METRICS_ADDRESS}, {@code SIEVE_RELAY},
 * {@code SIEVE_ENFORCEMENT}, {@code SIEVE_PIN_PREFIX}, {@code SIEVE_NETNS}, {@code SIEVE_FLOW_BUFFER},
 * {@code SIEVE_MONITOR_AGGREGATION}, {@code SIEVE_LOCAL_DELIVERY}, {@code SIEVE_PROXY_PORT_RANGE}, {@code SIEVE_PROXY_UPLINKS} (comma-separated), {@code SIEVE_TLS_CERT_FILE}, {@code SIEVE_TLS_KEY_FILE},
 * {@code SIEVE_TLS_CLIENT_CA_FILES}, {@code SIEVE_RELAY_TLS_CA_FILES}, {@code SIEVE_RELAY_TLS_CERT_FILE},
 * {@code SIEVE_RELAY_TLS_KEY_FILE}, {@code SIEVE_RELAY_TLS_SERVER_NAME}), which win over the defaults.
 */
public record AgentOptions(String nodeName, List<Path> manifests, InetSocketAddress observerAddress,
                           InetSocketAddress metricsAddress, String relay, EnforcementMode enforcement, String pinPrefix,
                           String netns, int flowBuffer, AggregationLevel aggregation, int proxyPortLow, int proxyPortHigh, boolean cleanupOnExit,
                           java.nio.file.Path spoolDir, LocalDelivery localDelivery, List<String> proxyUplinks,
                           dev.sieve.agent.fqdn.FqdnOptions fqdn, dev.sieve.enforcer.datapath.MapSizes mapSizes,
                           dev.sieve.tls.ServerTls observerTls, dev.sieve.tls.ClientTls relayTls) {

    public static final String USAGE = """
            Usage: sieve-agent --node-name NAME --manifests DIR [--manifests DIR ...]
                               [--observer-address 127.0.0.1:4244] [--metrics-address 127.0.0.1:9965] [--relay HOST:PORT]
                               [--enforcement default|always|never] [--pin-prefix node] [--netns NAME]
                               [--flow-buffer 65536] [--monitor-aggregation none|low|medium|max] [--cleanup-on-exit]
                               [--spool-dir /var/lib/sieve/spool/NODE] [--local-delivery bpf|stack]
                               [--tofqdns-min-ttl 0] [--tofqdns-endpoint-max-ip-per-hostname 50] [--tofqdns-max-entries 65536]
                               [--tofqdns-dns-reject-response-code refused|nameError]
                               [--fqdn-state-file /run/sieve/PIN_PREFIX/fqdn-cache.tsv]
                               [--proxy-port-range 10000-20000] [--proxy-uplinks IF[,IF...]|none]
                               [--bpf-ct-global-max 524288] [--bpf-policy-map-max 1048576]
                               [--bpf-ipcache-map-max 512000] [--bpf-endpoint-map-max 65535]
                               [--tls-cert-file F --tls-key-file F [--tls-client-ca-files F[,F...]]]   (Observer :4244)
                               [--relay-tls-ca-files F[,F...] [--relay-tls-cert-file F --relay-tls-key-file F]
                                [--relay-tls-server-name NAME]]                                       (push to the relay)
            Every flag can also be given as an environment variable: --node-name as SIEVE_NODE_NAME, and so on.
            """;

    /** Thrown for a bad flag or value; the message names it. */
    public static final class BadOption extends IllegalArgumentException {
        BadOption(String message) {
            super(message);
        }
    }

    /**
     * Where the agent keeps state that must live as long as its pinned maps (identity numbers, proxy ports, learned
     * FQDN addresses): {@code /run/sieve/<prefix>}, which, like the BPF file system, starts empty after a reboot.
     */
    public Path stateDir() {
        return dev.sieve.enforcer.datapath.DatapathConfig.of(pinPrefix).stateDir();
    }

    public static AgentOptions parse(String[] args, Map<String, String> env) {
        String node = env.get("SIEVE_NODE_NAME");
        List<Path> manifests = new ArrayList<>();
        if (env.containsKey("SIEVE_MANIFESTS")) for (String p : env.get("SIEVE_MANIFESTS").split(":")) if (!p.isBlank()) manifests.add(Path.of(p));
        String observer = env.getOrDefault("SIEVE_OBSERVER_ADDRESS", "127.0.0.1:4244");
        String metrics = env.getOrDefault("SIEVE_METRICS_ADDRESS", "127.0.0.1:9965");
        String relay = env.get("SIEVE_RELAY");
        String enforcement = env.getOrDefault("SIEVE_ENFORCEMENT", "default");
        String prefix = env.getOrDefault("SIEVE_PIN_PREFIX", "node");
        String netns = env.get("SIEVE_NETNS");
        String buffer = env.getOrDefault("SIEVE_FLOW_BUFFER", "65536");
        String aggregation = env.getOrDefault("SIEVE_MONITOR_AGGREGATION", "medium");
        boolean cleanup = "true".equals(env.get("SIEVE_CLEANUP_ON_EXIT"));
        String spool = env.get("SIEVE_SPOOL_DIR");
        String delivery = env.getOrDefault("SIEVE_LOCAL_DELIVERY", "bpf");
        String proxyRange = env.getOrDefault("SIEVE_PROXY_PORT_RANGE", "10000-20000");
        String uplinks = env.get("SIEVE_PROXY_UPLINKS");
        Map<String, String> sizeFlags = new java.util.LinkedHashMap<>();
        for (String f : MAP_SIZE_FLAGS) {
            String envName = "SIEVE_" + f.substring(2).replace('-', '_').toUpperCase(java.util.Locale.ROOT);
            if (env.containsKey(envName)) sizeFlags.put(f, env.get(envName));
        }
        String tlsCert = env.get("SIEVE_TLS_CERT_FILE"), tlsKey = env.get("SIEVE_TLS_KEY_FILE"), tlsClientCas = env.get("SIEVE_TLS_CLIENT_CA_FILES");
        String relayCas = env.get("SIEVE_RELAY_TLS_CA_FILES"), relayCert = env.get("SIEVE_RELAY_TLS_CERT_FILE"),
                relayKey = env.get("SIEVE_RELAY_TLS_KEY_FILE"), relayServerName = env.get("SIEVE_RELAY_TLS_SERVER_NAME");
        boolean manifestsFromFlags = false;
        List<String[]> fqdnFlags = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("--cleanup-on-exit")) {
                cleanup = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help")) throw new BadOption("help");
            if (value == null) {
                if (i + 1 >= args.length) throw new BadOption("flag " + a + " needs a value");
                value = args[++i];
            }
            switch (a) {
                case "--node-name" -> node = value;
                case "--manifests" -> {
                    if (!manifestsFromFlags) manifests.clear();
                    manifestsFromFlags = true;
                    manifests.add(Path.of(value));
                }
                case "--observer-address" -> observer = value;
                case "--metrics-address" -> metrics = value;
                case "--relay" -> relay = value;
                case "--enforcement" -> enforcement = value;
                case "--pin-prefix" -> prefix = value;
                case "--netns" -> netns = value;
                case "--flow-buffer" -> buffer = value;
                case "--monitor-aggregation" -> aggregation = value;
                case "--spool-dir" -> spool = value;
                case "--local-delivery" -> delivery = value;
                case "--proxy-port-range" -> proxyRange = value;
                case "--proxy-uplinks" -> uplinks = value;
                case "--bpf-ct-global-max", "--bpf-policy-map-max", "--bpf-ipcache-map-max", "--bpf-endpoint-map-max" ->
                        sizeFlags.put(a, value);
                case "--tls-cert-file" -> tlsCert = value;
                case "--tls-key-file" -> tlsKey = value;
                case "--tls-client-ca-files" -> tlsClientCas = value;
                case "--relay-tls-ca-files" -> relayCas = value;
                case "--relay-tls-cert-file" -> relayCert = value;
                case "--relay-tls-key-file" -> relayKey = value;
                case "--relay-tls-server-name" -> relayServerName = value;
                default -> {
                    if (!dev.sieve.agent.fqdn.FqdnOptions.isFlag(a)) throw new BadOption("unknown flag " + a);
                    fqdnFlags.add(new String[] {a, value});
                }
            }
        }
        if (node == null || node.isBlank()) throw new BadOption("--node-name (or SIEVE_NODE_NAME) is required");
        if (manifests.isEmpty()) throw new BadOption("--manifests (or SIEVE_MANIFESTS) is required");
        int bufferSize;
        try {
            bufferSize = Integer.parseInt(buffer);
        } catch (NumberFormatException e) {
            throw new BadOption("--flow-buffer must be a number: " + buffer);
        }
        if (bufferSize < 16) throw new BadOption("--flow-buffer must be at least 16: " + buffer);
        AggregationLevel level;
        try {
            level = AggregationLevel.valueOf(aggregation.toUpperCase());
        } catch (IllegalArgumentException e) {
            throw new BadOption("--monitor-aggregation must be none, low, medium or max: " + aggregation);
        }
        LocalDelivery localDelivery;
        try {
            localDelivery = LocalDelivery.parse(delivery);
        } catch (IllegalArgumentException e) {
            throw new BadOption("--local-delivery: " + e.getMessage());
        }
        int[] range;
        try {
            range = dev.sieve.proxy.transparent.NodeProxy.Settings.parseRange(proxyRange);
            if (range[1] - range[0] + 1 < dev.sieve.proxy.transparent.ProxyListener.all().size()) {
                throw new IllegalArgumentException("needs at least " + dev.sieve.proxy.transparent.ProxyListener.all().size()
                        + " ports (one per L7 protocol and direction), got " + proxyRange);
            }
        } catch (IllegalArgumentException e) {
            throw new BadOption("--proxy-port-range: " + e.getMessage());
        }
        EnforcementMode mode;
        try {
            mode = EnforcementMode.parse(enforcement);
        } catch (IllegalArgumentException e) {
            throw new BadOption("--enforcement: " + e.getMessage());
        }
        dev.sieve.agent.fqdn.FqdnOptions fqdn = dev.sieve.agent.fqdn.FqdnOptions.defaults(prefix);
        for (String[] f : fqdnFlags) {
            try {
                dev.sieve.agent.fqdn.FqdnOptions next = dev.sieve.agent.fqdn.FqdnOptions.with(fqdn, f[0], f[1]);
                if (next == null) throw new BadOption("unknown flag " + f[0]);
                fqdn = next;
            } catch (IllegalArgumentException e) {
                throw new BadOption(e.getMessage());
            }
        }
        dev.sieve.enforcer.datapath.MapSizes sizes = dev.sieve.enforcer.datapath.MapSizes.DEFAULT;
        for (Map.Entry<String, String> f : sizeFlags.entrySet()) {
            int n;
            try {
                n = Integer.parseInt(f.getValue().strip());
                sizes = switch (f.getKey()) {
                    case "--bpf-ct-global-max" -> sizes.withConntrack(n);
                    case "--bpf-policy-map-max" -> sizes.withPolicy(n);
                    case "--bpf-ipcache-map-max" -> sizes.withIpcache(n);
                    default -> sizes.withEndpoints(n);
                };
            } catch (NumberFormatException e) {
                throw new BadOption(f.getKey() + " must be a number: " + f.getValue());
            } catch (IllegalArgumentException e) {
                throw new BadOption(f.getKey() + ": " + e.getMessage());
            }
        }
        dev.sieve.tls.ServerTls observerTls = null;
        if (blank(tlsCert) != blank(tlsKey)) throw new BadOption("--tls-cert-file and --tls-key-file go together");
        if (!blank(tlsCert)) observerTls = new dev.sieve.tls.ServerTls(Path.of(tlsCert), Path.of(tlsKey), dev.sieve.tls.ServerTls.paths(tlsClientCas));
        else if (!blank(tlsClientCas)) throw new BadOption("--tls-client-ca-files needs --tls-cert-file and --tls-key-file");
        dev.sieve.tls.ClientTls relayTls = null;
        if (blank(relayCert) != blank(relayKey)) throw new BadOption("--relay-tls-cert-file and --relay-tls-key-file go together");
        if (!blank(relayCas) || !blank(relayCert) || !blank(relayServerName))
            relayTls = new dev.sieve.tls.ClientTls(dev.sieve.tls.ServerTls.paths(relayCas), blank(relayCert) ? null : Path.of(relayCert),
                    blank(relayKey) ? null : Path.of(relayKey), blank(relayServerName) ? null : relayServerName, false);
        return new AgentOptions(node, List.copyOf(manifests), address("--observer-address", observer),
                address("--metrics-address", metrics), relay, mode, prefix, netns, bufferSize, level, range[0], range[1], cleanup,
                Path.of(spool != null ? spool : "/var/lib/sieve/spool/" + node), localDelivery,
                uplinks == null ? null : java.util.Arrays.stream(uplinks.split(",")).map(String::strip)
                        .filter(x -> !x.isEmpty() && !x.equals("none")).toList(), fqdn, sizes, observerTls, relayTls);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** Capacities of the datapath's maps (environment: SIEVE_BPF_CT_GLOBAL_MAX, ...). */
    static final List<String> MAP_SIZE_FLAGS = List.of("--bpf-ct-global-max", "--bpf-policy-map-max", "--bpf-ipcache-map-max",
            "--bpf-endpoint-map-max");

    static InetSocketAddress address(String flag, String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) throw new BadOption(flag + " must be HOST:PORT: " + text);
        String host = text.substring(0, colon).replace("[", "").replace("]", "");
        try {
            int port = Integer.parseInt(text.substring(colon + 1));
            if (port < 0 || port > 65535) throw new NumberFormatException();
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new BadOption(flag + " has a bad port: " + text);
        }
    }
}
