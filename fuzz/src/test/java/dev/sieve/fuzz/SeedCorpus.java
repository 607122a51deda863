package dev.sieve.fuzz;

import dev.sieve.api.flow.FlowFilter;
import dev.sieve.api.flow.Verdict;
import dev.sieve.api.ingest.v1.FlowBatch;
import dev.sieve.api.observer.GetFlowsRequest;
import dev.sieve.relay.support.TestFlows;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes the binary seeds of the fuzz tests into src/test/resources (run by hand after a format changes:
 * {@code mvn -pl fuzz -am test -Dtest=SeedCorpus -Dfuzz.writeSeeds=true -Dfuzz.enabled=false}). The manifest parser's
 * seeds are the seed's examples, copied by the build.
 */
class SeedCorpus {
    static final Path RESOURCES = Path.of(System.getProperty("fuzz.resources", "src/test/resources"));

    @Test
    @EnabledIfSystemProperty(named = "fuzz.writeSeeds", matches = "true")
    void write() throws Exception {
        long now = System.currentTimeMillis() * 1_000_000L;
        TestFlows g = new TestFlows(3, "node-1", now);
        FlowBatch.Builder b = FlowBatch.newBuilder().setNodeName("node-1").setEpoch("e1").setSequence(1).setFirstFlowSeq(1);
        for (int i = 0; i < 3; i++) b.addFlows(g.next());
        seed("dev/sieve/fuzz/IngestBatchFuzzTestInputs/batches/batch-3-flows", b.build().toByteArray());
        seed("dev/sieve/fuzz/IngestBatchFuzzTestInputs/batches/probe",
                FlowBatch.newBuilder().setNodeName("node-1").setEpoch("e1").setSequence(0).build().toByteArray());

        seed("dev/sieve/fuzz/FlowFilterFuzzTestInputs/requests/pod-verdict", GetFlowsRequest.newBuilder().setNumber(20)
                .addWhitelist(FlowFilter.newBuilder().addSourcePod("production/frontend").addVerdict(Verdict.DROPPED))
                .addBlacklist(FlowFilter.newBuilder().addDestinationIp("10.0.0.0/8").addSourceLabel("k8s:app=dns")).build().toByteArray());
        seed("dev/sieve/fuzz/FlowFilterFuzzTestInputs/requests/http", GetFlowsRequest.newBuilder().setFirst(true).setNumber(5)
                .addWhitelist(FlowFilter.newBuilder().addHttpPath("/api/.*").addHttpMethod("GET").addDestinationPort("80")
                        .addNodeName("node-*").addSourceFqdn("*.example.com")).build().toByteArray());

        seed("dev/sieve/fuzz/VerdictEventFuzzTestInputs/events/ipv4-egress-forwarded", event(4, 2, 1, 0));
        seed("dev/sieve/fuzz/VerdictEventFuzzTestInputs/events/ipv4-ingress-dropped", event(4, 1, 2, 133));
        seed("dev/sieve/fuzz/VerdictEventFuzzTestInputs/events/ipv6-egress", event(6, 2, 1, 0));

        Path dir = Files.createTempDirectory("sieve-seed-spool-");
        try {
            dev.sieve.observer.relay.SpoolSeeds.write(dir, b.build());
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    seed("dev/sieve/observer/relay/SpoolRecordFuzzTestInputs/records/batch-record", Files.readAllBytes(p));
                    Files.delete(p);
                }
            }
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    /** One struct verdict_event as the datapath writes it (little endian; layout in bpf/include). */
    static byte[] event(int family, int direction, int verdict, int dropReason) {
        ByteBuffer e = ByteBuffer.allocate(80).order(ByteOrder.LITTLE_ENDIAN);
        e.putLong(0, 1_000_000_000L);
        byte[] src = family == 4 ? new byte[] {10, 0, 0, 1} : new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        byte[] dst = family == 4 ? new byte[] {10, 0, 0, 2} : new byte[] {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
        e.put(8, src).put(24, dst);
        e.putInt(40, 12345).putInt(44, 2).putInt(48, 1).putInt(52, 7).putInt(56, 3).putInt(60, 60);
        e.putShort(64, (short) 40000).putShort(66, (short) 80).putShort(68, (short) dropReason).putShort(70, (short) 0);
        e.put(72, (byte) verdict).put(73, (byte) direction).put(74, (byte) family).put(75, (byte) 6).put(76, (byte) 0x02);
        return e.array();
    }

    static void seed(String path, byte[] bytes) throws Exception {
        Path p = RESOURCES.resolve(path);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
    }
}
