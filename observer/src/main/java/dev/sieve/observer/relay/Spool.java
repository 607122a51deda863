package dev.sieve.observer.relay;

import dev.sieve.api.ingest.v1.FlowBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Sealed batches waiting for the relay's acknowledgement, oldest first: the newest {@code memoryBatches} in
 * memory, older ones spilled to files in {@code dir} (bounded by {@code maxDiskBytes}; past that the oldest
 * are dropped and counted). Files left by an earlier run are loaded first, so a restarted agent resends
 * what the relay never acknowledged, under its old epoch. Not thread-safe: the pusher holds its lock.
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

    Spool(Path dir, long maxDiskBytes, int memoryBatches) {
        this.dir = dir;
        this.maxDiskBytes = maxDiskBytes;
        this.memoryBatches = memoryBatches;
        load();
    }

    private void load() {
        if (dir == null || !Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".batch")).sorted().toList()) {
                try {
                    FlowBatch b = FlowBatch.parseFrom(Files.readAllBytes(f));
                    Entry e = new Entry(b.getEpoch(), b.getSequence(), b.getFlowsCount());
                    e.file = f;
                    e.bytes = Files.size(f);
                    diskBytes += e.bytes;
                    entries.add(e);
                } catch (IOException e) {
                    LOG.warning("spool: skipping unreadable " + f + ": " + e.getMessage());
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spool " + dir, e);
        }
        if (!entries.isEmpty()) LOG.info("spool: " + entries.size() + " unacknowledged batches from an earlier run in " + dir);
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

    private void write(Entry e) {
        try {
            Files.createDirectories(dir);
            long created = e.batch.getCreated().getSeconds() * 1000 + e.batch.getCreated().getNanos() / 1_000_000;
            Path f = dir.resolve(String.format("%013d-%s-%012d.batch", created, e.epoch, e.sequence));
            byte[] bytes = e.batch.toByteArray();
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            e.file = f;
            e.bytes = bytes.length;
            e.batch = null;
            inMemory--;
            diskBytes += e.bytes;
        } catch (IOException ex) {
            LOG.warning("spool: cannot write to " + dir + ": " + ex.getMessage());
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

    /** The oldest batch not sent on the current stream, or null. */
    FlowBatch nextToSend() {
        for (Entry e : entries) {
            if (e.sent) continue;
            e.sent = true;
            if (e.batch != null) return e.batch;
            try {
                return FlowBatch.parseFrom(Files.readAllBytes(e.file));
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot read spooled batch " + e.file, ex);
            }
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
}
