package dev.sieve.policy.testing;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Verdict;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * One row of a verdict table: a named set of manifests, one connection written as
 * {@code FROM -> TO PORT[/PROTO] [L7]}, and the expected verdict. L7 is one of
 * {@code http METHOD PATH [host=H] [Header=value | Header]...}, {@code kafka APIKEY [TOPIC] [client=C] [v=N]}
 * or {@code dns NAME}. Peers are written as {@link dev.sieve.policy.trace.PeerSpec} does.
 */
public record VerdictCase(Manifests manifests, String traffic, Verdict expected) {

    /** Manifests under a short name, loaded once per test run (the demo cluster is added unless {@code own}). */
    public record Manifests(String name, String yaml, EnforcementMode mode, boolean ownCluster, Supplier<Scenario> loader) {

        private static final Map<String, Scenario> CACHE = new ConcurrentHashMap<>();

        public static Manifests demo(String name, String yaml) {
            return new Manifests(name, yaml, EnforcementMode.DEFAULT, false, null);
        }

        public static Manifests demo(String name, String yaml, EnforcementMode mode) {
            return new Manifests(name, yaml, mode, false, null);
        }

        public static Manifests own(String name, String yaml) {
            return new Manifests(name, yaml, EnforcementMode.DEFAULT, true, null);
        }

        public static Manifests examples(String file) {
            return new Manifests(file, null, EnforcementMode.DEFAULT, false, () -> Scenario.examples(file));
        }

        public Scenario scenario() {
            return CACHE.computeIfAbsent(name + "|" + mode, k -> {
                if (loader != null) return loader.get();
                return ownCluster ? Scenario.ofYaml(yaml, mode) : Scenario.withYaml(yaml, mode);
            });
        }

        @Override
        public String toString() {
            return name + (mode == EnforcementMode.DEFAULT ? "" : " [" + mode + "]");
        }
    }

    public static VerdictCase of(Manifests m, String traffic, Verdict expected) {
        return new VerdictCase(m, traffic, expected);
    }

    public TraceResult run() {
        return manifests.scenario().tracer.trace(request(traffic));
    }

    /** Parses the traffic notation into a trace request. */
    public static TraceRequest request(String traffic) {
        String[] arrow = traffic.split("\\s*->\\s*", 2);
        String from = arrow[0].trim();
        List<String> w = List.of(arrow[1].trim().split("\\s+"));
        String to = w.get(0);
        String port = w.get(1);
        HttpRequest http = null;
        KafkaRequest kafka = null;
        String dns = null;
        if (w.size() > 2) {
            switch (w.get(2)) {
                case "http" -> {
                    String host = null;
                    Map<String, String> headers = new LinkedHashMap<>();
                    for (String extra : w.subList(5, w.size())) {
                        if (extra.startsWith("host=")) host = extra.substring(5);
                        else if (extra.contains("=")) headers.put(extra.substring(0, extra.indexOf('=')), extra.substring(extra.indexOf('=') + 1));
                        else headers.put(extra, "");
                    }
                    http = new HttpRequest(w.get(3), w.get(4), host, headers);
                }
                case "kafka" -> {
                    String topic = null, client = null;
                    int version = -1;
                    for (String extra : w.subList(4, w.size())) {
                        if (extra.startsWith("client=")) client = extra.substring(7);
                        else if (extra.startsWith("v=")) version = Integer.parseInt(extra.substring(2));
                        else topic = extra;
                    }
                    kafka = new KafkaRequest(KafkaApiKeys.parse(w.get(3)), version, client, topic == null ? List.of() : List.of(topic));
                }
                case "dns" -> dns = w.get(3);
                default -> throw new IllegalArgumentException("unknown L7 kind in " + traffic);
            }
        }
        return Scenario.request(from, to, port, http, kafka, dns);
    }

    @Override
    public String toString() {
        return manifests + ": " + traffic + " => " + expected;
    }
}
