package dev.sieve.observer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.sieve.api.flow.Flow;
import dev.sieve.api.ingest.v1.FlowBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spool on a real file system (review findings F8 and F20): what an agent restart finds after a clock step, a
 * torn or corrupted file, a crash mid-write, and a full disk.
 */
class SpoolTest {

    static FlowBatch batch(String epoch, long seq, long createdSeconds, int flows) {
        FlowBatch.Builder b = FlowBatch.newBuilder().setNodeName("n").setEpoch(epoch).setSequence(seq)
                .setCreated(Timestamp.newBuilder().setSeconds(createdSeconds));
        for (int i = 0; i < flows; i++) b.addFlows(Flow.newBuilder().setUuid(epoch + "-" + seq + "-" + i).setNodeName("n"));
        return b.build();
    }

    /** Fills a spool whose memory holds one batch, so every earlier batch is written to {@code dir}. */
    static void spill(Path dir, List<FlowBatch> batches) {
        Spool s = new Spool(dir, 1L << 30, 1);
        for (FlowBatch b : batches) s.add(b);
        s.persist();
    }

    static List<Long> sequences(Spool s) {
        List<Long> out = new ArrayList<>();
        for (FlowBatch b; (b = s.nextToSend()) != null; ) out.add(b.getSequence());
        return out;
    }

    static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void aClockStepBackDoesNotReorderTheResend(@TempDir Path dir) {
        // the wall clock went back an hour between batch 2 and 3
        spill(dir, List.of(batch("e1", 1, 10_000, 1), batch("e1", 2, 10_001, 1), batch("e1", 3, 6_400, 1),
                batch("e1", 4, 6_401, 1)));
        assertThat(sequences(new Spool(dir, 1L << 30, 1))).containsExactly(1L, 2L, 3L, 4L);
    }

    @Test
    void aTornOrCorruptedFileIsSkippedAndCountedAndTheRestIsDelivered(@TempDir Path dir) throws IOException {
        spill(dir, List.of(batch("e1", 1, 100, 3), batch("e1", 2, 101, 3), batch("e1", 3, 102, 3), batch("e1", 4, 103, 3)));
        List<Path> f = files(dir);
        assertThat(f).hasSize(4);
        byte[] torn = Files.readAllBytes(f.get(1));
        Files.write(f.get(1), java.util.Arrays.copyOf(torn, torn.length / 2));
        byte[] flipped = Files.readAllBytes(f.get(2));
        flipped[flipped.length - 3] ^= 0x20; // inside a flow's uuid: still parses as a FlowBatch
        Files.write(f.get(2), flipped);

        Spool s = new Spool(dir, 1L << 30, 1);
        assertThat(sequences(s)).containsExactly(1L, 4L);
        assertThat(s.corruptRecords()).isEqualTo(2);
        assertThat(files(dir)).hasSize(2);
    }

    @Test
    void leftoversOfAWriteCutShortAreRemoved(@TempDir Path dir) throws IOException {
        spill(dir, List.of(batch("e1", 1, 100, 1), batch("e1", 2, 101, 1)));
        Path tmp = dir.resolve("0000000000102-e1-000000000003.batch.tmp");
        Files.write(tmp, new byte[] {1, 2, 3});
        Spool s = new Spool(dir, 1L << 30, 1);
        assertThat(sequences(s)).containsExactly(1L, 2L);
        assertThat(tmp).doesNotExist();
    }

    /**
     * A full disk (a real 256 KiB tmpfs): batches that cannot be written are counted as lost instead of piling up
     * in memory, nothing throws, and once space is freed the spool writes again.
     */
    @Test
    void aFullDiskDegradesToCountedLossAndRecovers(@TempDir Path base) throws Exception {
        Path mnt = Files.createDirectory(base.resolve("tmpfs"));
        run("mount", "-t", "tmpfs", "-o", "size=256k", "sieve-spool-test", mnt.toString());
        try {
            Path dir = Files.createDirectory(mnt.resolve("spool"));
            Path filler = mnt.resolve("filler");
            try {
                Files.write(filler, new byte[256 * 1024]);
            } catch (IOException full) {
                // the file system is full now: what we wanted
            }
            Spool s = new Spool(dir, 1L << 30, 2);
            for (int i = 1; i <= 50; i++) s.add(batch("e1", i, 100 + i, 20));
            assertThat(s.size()).as("batches kept (memory stays bounded)").isLessThanOrEqualTo(3);
            assertThat(s.droppedFlows()).isEqualTo((50 - s.size()) * 20L);
            assertThat(s.writeErrors()).isPositive();

            Files.delete(filler);
            long dropped = s.droppedFlows();
            for (int i = 51; i <= 60; i++) s.add(batch("e1", i, 100 + i, 20));
            assertThat(s.droppedFlows()).as("no loss once there is space").isEqualTo(dropped);
            assertThat(s.bytesOnDisk()).isPositive();
        } finally {
            run("umount", mnt.toString());
        }
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}
