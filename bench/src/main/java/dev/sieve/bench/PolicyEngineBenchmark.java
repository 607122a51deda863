package dev.sieve.bench;

import dev.sieve.policy.cluster.Pod;
import dev.sieve.policy.compute.EnforcementMode;
import dev.sieve.policy.compute.PolicyEngine;
import dev.sieve.policy.identity.LocalIdentityAllocator;
import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.model.Protocol;
import dev.sieve.policy.trace.TraceRequest;
import dev.sieve.policy.trace.TraceResult;
import dev.sieve.policy.trace.Tracer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The policy issue's figures: full computation for 1,000 endpoints and 2,000 rules (goal under 1 s), an
 * incremental update after one pod's labels change (goal under 5 ms), one trace (goal under 5 µs).
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PolicyEngineBenchmark {

    @Param({"1000"})
    int endpoints;

    @Param({"2000"})
    int rules;

    ManifestSet set;
    PolicyEngine engine;
    Tracer tracer;
    Pod plain, canary;
    boolean flip;
    TraceRequest traceAllowed, traceDropped;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        set = ManifestParser.parse("synthetic.yaml", SyntheticCluster.yaml(endpoints, rules, 42));
        engine = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        engine.load(set);
        tracer = new Tracer(engine);
        plain = engine.pod("ns-7/pod-7");
        Map<String, String> labels = new HashMap<>(plain.labels());
        labels.put("canary", "true");
        canary = new Pod(plain.namespace(), plain.name(), labels, plain.annotations(), plain.ips(), plain.nodeName(),
                plain.serviceAccount(), plain.ports(), plain.source());
        traceAllowed = new TraceRequest("ns-1/pod-1", "ns-2/pod-2", 8080, Protocol.TCP, null, null, null);
        traceDropped = new TraceRequest("ns-3/pod-3", "ns-4/pod-4", 9050, Protocol.TCP, null, null, null);
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3, batchSize = 1)
    @Measurement(iterations = 8, batchSize = 1)
    public PolicyEngine fullComputation() {
        PolicyEngine e = new PolicyEngine(new LocalIdentityAllocator(), EnforcementMode.DEFAULT, null);
        e.load(set);
        return e;
    }

    /** One pod gains or loses a label: a new identity, peers' selections and its own policy updated. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public long incrementalPodLabelChange() {
        flip = !flip;
        engine.upsertPod(flip ? canary : plain);
        return engine.generation();
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public TraceResult trace() {
        return tracer.trace(traceDropped);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public TraceResult traceAllowed() {
        return tracer.trace(traceAllowed);
    }
}
