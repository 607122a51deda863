package dev.sieve.policy.testing;

import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.l7.HttpRequest;
import dev.sieve.policy.l7.KafkaApiKeys;
import dev.sieve.policy.l7.KafkaRequest;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import dev.sieve.policy.trace.Verdict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A cluster plus policies loaded into an engine, and short ways to trace traffic through it. */
public final class Scenario {

    public final PolicyEngine engine;
    public final Tracer tracer;

    private Scenario(ManifestSet set, EnforcementMode mode) {
        engine = new PolicyEngine(new LocalIdentityAllocator(), mode, null);
        engine.load(set);
        tracer = new Tracer(engine);
    }

    public static Path repo() {
        Path p = Path.of(System.getProperty("sieve.examples.dir", "../examples")).toAbsolutePath().normalize();
        return p.getParent();
    }

    public static Path examples() {
        return repo().resolve("examples");
    }

    /** The demo cluster plus the named example policy files (e.g. "01-allow-frontend-to-backend.yaml"). */
    public static Scenario examples(String... policyFiles) {
        List<Path> paths = new ArrayList<>();
        paths.add(examples().resolve("cluster"));
        for (String f : policyFiles) paths.add(examples().resolve("policies").resolve(f));
        return load(paths, EnforcementMode.DEFAULT);
    }

    public static Scenario load(List<Path> paths, EnforcementMode mode) {
        try {
            return new Scenario(ManifestParser.load(paths), mode);
        } catch (ValidationException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** The demo cluster plus inline YAML policies. */
    public static Scenario withYaml(String yaml) {
        return withYaml(yaml, EnforcementMode.DEFAULT);
    }

    public static Scenario withYaml(String yaml, EnforcementMode mode) {
        try {
            Path tmp = Files.createTempFile("sieve-test-", ".yaml");
            try {
                Files.writeString(tmp, yaml);
                return load(List.of(examples().resolve("cluster"), tmp), mode);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static Scenario ofYaml(String yaml, EnforcementMode mode) {
        try {
            return new Scenario(ManifestParser.parse("inline.yaml", yaml), mode);
        } catch (ValidationException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** Traces "PORT/PROTO" (protocol TCP when omitted) from one peer to another. */
    public TraceResult trace(String from, String to, String port) {
        return tracer.trace(request(from, to, port, null, null, null));
    }

    public Verdict verdict(String from, String to, String port) {
        return trace(from, to, port).verdict();
    }

    public TraceResult http(String from, String to, String port, String method, String path, Map<String, String> headers) {
        return tracer.trace(request(from, to, port, new HttpRequest(method, path, null, headers), null, null));
    }

    public TraceResult kafka(String from, String to, String port, String apiKey, String topic) {
        return tracer.trace(request(from, to, port, null,
                new KafkaRequest(KafkaApiKeys.parse(apiKey), -1, null, topic == null ? List.of() : List.of(topic)), null));
    }

    public TraceResult dns(String from, String to, String port, String query) {
        return tracer.trace(request(from, to, port, null, null, query));
    }

    public static TraceRequest request(String from, String to, String port, HttpRequest http, KafkaRequest kafka, String dns) {
        String[] pp = port.split("/");
        Protocol proto = pp.length > 1 ? Protocol.parse(pp[1]) : Protocol.TCP;
        return new TraceRequest(from, to, Integer.parseInt(pp[0]), proto, http, kafka, dns);
    }
}
