package dev.sieve.observer.relay;

import dev.sieve.api.ingest.v1.FlowBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Sealed batches waiting for the relay's acknowledgement, oldest first: the newest {@code memoryBatches} in
 * memory, older ones spilled to files in {@code dir} (bounded by {@code maxDiskBytes}; past that the oldest
 * are dropped and counted). Files left by an earlier run are loaded first, so a restarted agent resends
 * what the relay never acknowledged, under its old epoch, in sequence order. Not thread-safe: the pusher holds its
 * lock.
 *
 * <p>A batch counts as spooled once its file and the directory entry are on disk (fsync). Each file is one record:
 * {@code "SVSP"}, a format byte, the payload's length and CRC32C, then the {@code FlowBatch}; a torn or corrupted
 * record is skipped and counted, never resent as something else. A write that fails (a full disk) drops that batch
 * and counts it, so memory stays bounded and nothing throws.
 */
final class Spool {

    private static final Logger LOG = Logger.getLogger(Spool.class.getName());

    private static final class Entry {
        final String epoch;
        final long sequence;
        final int flows;
        FlowBatch batch; // null when on disk
        Path file;
        long bytes;
        boolean sent;

        Entry(String epoch, long sequence, int flows) {
            this.epoch = epoch;
            this.sequence = sequence;
            this.flows = flows;
        }
    }

    private final Path dir;
    private final long maxDiskBytes;
    private final int memoryBatches;
    private final LinkedList<Entry> entries = new LinkedList<>();
    private int inMemory;
    private long diskBytes;
    private long dropped;
    private long corrupt;
    private long writeErrors;

    Spool(Path dir, long maxDiskBytes, int memoryBatches) {
        this.dir = dir;
        this.maxDiskBytes = maxDiskBytes;
        this.memoryBatches = memoryBatches;
        load();
    }

    private void load() {
        if (dir == null || !Files.isDirectory(dir)) return;
        List<FlowBatch> found = new ArrayList<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".tmp")) { // a write cut short: never counted as spooled
                    Files.deleteIfExists(f);
                    continue;
                }
                if (!name.endsWith(".batch")) continue;
                FlowBatch b = readRecord(f);
                if (b == null) {
                    Files.deleteIfExists(f);
                    continue;
                }
                found.add(b);
                paths.add(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spool " + dir, e);
        }
        // sequence order within an epoch, epochs by their first batch: file names carry the wall clock, which
        // may have stepped back (F20)
        Map<String, Long> epochStart = new HashMap<>();
        for (FlowBatch b : found) epochStart.merge(b.getEpoch(), seconds(b), Math::min);
        Integer[] order = new Integer[found.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.<Integer>comparingLong(i -> epochStart.get(found.get(i).getEpoch()))
                .thenComparing(i -> found.get(i).getEpoch()).thenComparingLong(i -> found.get(i).getSequence()));
        for (int i : order) {
            FlowBatch b = found.get(i);
            Entry e = new Entry(b.getEpoch(), b.getSequence(), b.getFlowsCount());
            e.file = paths.get(i);
            try {
                e.bytes = Files.size(e.file);
            } catch (IOException ex) {
                continue;
            }
            diskBytes += e.bytes;
            entries.add(e);
        }
        if (!entries.isEmpty()) LOG.info("spool: " + entries.size() + " unacknowledged batches from an earlier run in " + dir);
        if (corrupt > 0) LOG.warning("spool: skipped " + corrupt + " torn or corrupted files in " + dir);
    }

    private static long seconds(FlowBatch b) {
        return b.getCreated().getSeconds();
    }

    private static final byte[] MAGIC = {'S', 'V', 'S', 'P'};
    private static final byte FORMAT = 1;
    private static final int HEADER = MAGIC.length + 1 + 4 + 4;

    private static byte[] record(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        return ByteBuffer.allocate(HEADER + payload.length).put(MAGIC).put(FORMAT).putInt(payload.length)
                .putInt((int) crc.getValue()).put(payload).array();
    }

    /** The batch in spool file {@code f}, or null (counted) when it is torn, corrupted or unreadable. */
    private FlowBatch readRecord(Path f) {
        try {
            ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(f));
            byte[] magic = new byte[MAGIC.length];
            if (r.remaining() >= HEADER) r.get(magic);
            if (!Arrays.equals(magic, MAGIC) || r.get() != FORMAT) throw new IOException("not a spool record");
            int len = r.getInt();
            int sum = r.getInt();
            if (len != r.remaining()) throw new IOException("torn: " + r.remaining() + " of " + len + " bytes");
            CRC32C crc = new CRC32C();
            crc.update(r.duplicate());
            if ((int) crc.getValue() != sum) throw new IOException("checksum mismatch");
            return FlowBatch.parseFrom(r);
        } catch (IOException | RuntimeException e) {
            corrupt++;
            LOG.warning("spool: skipping " + f + ": " + e.getMessage());
            return null;
        }
    }

    /** Adds a sealed batch; returns how many flows had to be dropped to stay within bounds. */
    long add(FlowBatch b) {
        Entry e = new Entry(b.getEpoch(), b.getSequence(), b.getFlowsCount());
        e.batch = b;
        entries.add(e);
        inMemory++;
        long before = dropped;
        if (inMemory > memoryBatches) spillOldestInMemory();
        return dropped - before;
    }

    private void spillOldestInMemory() {
        for (Entry e : entries) {
            if (e.batch == null) continue;
            if (dir == null) { // no spool directory: the oldest batch is lost
                entries.remove(e);
                inMemory--;
                dropped += e.flows;
                return;
            }
            write(e);
            break;
        }
        while (diskBytes > maxDiskBytes) {
            Entry oldest = null;
            for (Entry e : entries) if (e.file != null) { oldest = e; break; }
            if (oldest == null) break;
            entries.remove(oldest);
            delete(oldest);
            dropped += oldest.flows;
        }
    }

    /** Writes an in-memory batch to its file and syncs it; on failure the batch is dropped and counted. */
    private void write(Entry e) {
        Path f = dir.resolve(String.format("%013d-%s-%012d.batch", e.batch.getCreated().getSeconds() * 1000
                + e.batch.getCreated().getNanos() / 1_000_000, e.epoch, e.sequence));
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try {
            Files.createDirectories(dir);
            byte[] bytes = record(e.batch.toByteArray());
            try (FileChannel ch = FileChannel.open(tmp,
                    StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory();
            e.file = f;
            e.bytes = bytes.length;
            e.batch = null;
            inMemory--;
            diskBytes += e.bytes;
        } catch (IOException ex) {
            writeErrors++;
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the next load removes it
            }
            LOG.warning("spool: cannot write to " + dir + " (batch dropped, " + e.flows + " flows): " + ex.getMessage());
            entries.remove(e);
            inMemory--;
            dropped += e.flows;
        }
    }

    private void syncDirectory() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void delete(Entry e) {
        if (e.file == null) {
            if (e.batch != null) inMemory--;
            return;
        }
        try {
            Files.deleteIfExists(e.file);
        } catch (IOException ex) {
            LOG.warning("spool: cannot delete " + e.file + ": " + ex.getMessage());
        }
        diskBytes -= e.bytes;
    }

    /** The oldest batch not sent on the current stream, or null. A file found corrupted now is dropped and counted. */
    FlowBatch nextToSend() {
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.sent) continue;
            if (e.batch != null) {
                e.sent = true;
                return e.batch;
            }
            FlowBatch b = readRecord(e.file);
            if (b != null) {
                e.sent = true;
                return b;
            }
            it.remove();
            delete(e);
            dropped += e.flows;
        }
        return null;
    }

    int inFlight() {
        int n = 0;
        for (Entry e : entries) if (e.sent) n++;
        return n;
    }

    /** A new stream: everything unacknowledged goes again. */
    void rewind() {
        for (Entry e : entries) e.sent = false;
    }

    /** Forgets every batch of {@code epoch} up to {@code through}; returns how many. */
    int ack(String epoch, long through) {
        int n = 0;
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.epoch.equals(epoch) && e.sequence <= through) {
                it.remove();
                delete(e);
                n++;
            }
        }
        return n;
    }

    /** Drops a batch the relay will never take; returns its flow count. */
    int reject(String epoch, long sequence) {
        for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.epoch.equals(epoch) && e.sequence == sequence) {
                it.remove();
                delete(e);
                return e.flows;
            }
        }
        return 0;
    }

    /** The relay could not take this batch now: send it, and everything after it, again. */
    void retryFrom(String epoch, long sequence) {
        boolean from = false;
        for (Entry e : entries) {
            if (e.epoch.equals(epoch) && e.sequence == sequence) from = true;
            if (from) e.sent = false;
        }
    }

    /** Writes every in-memory batch to disk (on shutdown). */
    void persist() {
        if (dir == null) return;
        List<Entry> mem = new ArrayList<>();
        for (Entry e : entries) if (e.batch != null) mem.add(e);
        for (Entry e : mem) write(e);
    }

    int size() {
        return entries.size();
    }

    long bytesOnDisk() {
        return diskBytes;
    }

    long droppedFlows() {
        return dropped;
    }

    /** Spool files skipped because they were torn or corrupted. */
    long corruptRecords() {
        return corrupt;
    }

    /** Batches that could not be written (a full or failing disk), dropped and counted in {@link #droppedFlows()}. */
    long writeErrors() {
        return writeErrors;
    }
}
