package dev.sieve.relay.store.clickhouse;

import dev.sieve.relay.store.EncodedBatch;
import dev.sieve.relay.store.FlowColumns;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.FlowStore.Batch;
import dev.sieve.relay.store.FlowStore.Mark;
import dev.sieve.relay.store.FlowStore.StreamKey;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.StreamOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * The write path into ClickHouse and the ingest marks. Appends are group-committed by writer
 * threads, each owning a share of the streams (so a stream's batches stay in order): pending
 * batches are coalesced into one RowBinary INSERT (at most every {@code flushInterval} or
 * {@code maxGroupRows} rows), then one INSERT of the new ingest marks, and only then are the
 * appends completed — so a batch is acknowledged only once ClickHouse holds it, and ClickHouse sees
 * a few large inserts per second instead of one per batch. ClickHouse parses, sorts and writes one
 * INSERT on one thread, so more than one writer is what lets it use more than one core.
 *
 * <p>Exactly-once: a stream's mark (node, epoch → highest stored batch sequence and flow position)
 * comes only from {@code ingest_marks}, whose rows are written after a complete flows insert. A
 * flows insert that failed may still have left rows (one cut short commits its complete rows, in
 * table-key order, so any subset of the group; one that completed may have lost its marks insert),
 * so the first time a writer meets a stream, and after any failed insert, it also loads what
 * {@code flows} holds of the stream above the mark ({@link StoredAbove}) and stores only the flows
 * not there — each flow once, also in the materialized views' counts.
 */
final class FlowWriters implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FlowWriters.class.getName());
    /** Bytes reserved per row before encoding a batch (a bench row is ~380). */
    private static final int ROW_BYTES_ESTIMATE = 448;

    private final ClickHouseConnection ch;
    private final InsertTransport inserts;
    private final Migrations migrations;
    private final LabelSets labelSets;
    private final Duration flushInterval;
    private final int maxGroupRows;
    /** Per stream, what ClickHouse holds; only ever raised (a slow read must not undo a newer write), dropped after a failed write. */
    private final Map<StreamKey, Mark> marks = new ConcurrentHashMap<>();
    /** Streams whose {@link Writer#storedAbove} its writer drops before its next insert ({@link #reloadMark}). */
    private final Set<StreamKey> reloadStoredAbove = ConcurrentHashMap.newKeySet();
    /** After a failed write, a stream's batches are stored only in sequence order until the failed ones are back. */
    private final StreamOrder order = new StreamOrder();
    /**
     * Row buffers of batches already written, reused by the next batches: encoding would otherwise
     * allocate the whole ingest rate (~130 MB/s at 300k flows/s) in arrays that live until their
     * group is inserted, a second or two, i.e. through several young collections that copy them.
     * Bounded by {@link #poolMaxBytes}.
     */
    private final ConcurrentLinkedDeque<byte[]> rowBuffers = new ConcurrentLinkedDeque<>();
    private final AtomicLong pooledBytes = new AtomicLong();
    private final long poolMaxBytes = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 16);
    private static final ThreadLocal<FlowColumns> READERS = ThreadLocal.withInitial(FlowColumns::new);
    private final List<Writer> writers = new ArrayList<>();
    private volatile boolean closed;

    /** One writer thread and its queue. */
    private final class Writer {
        final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
        /** This writer's sort buffers, reused from one insert to the next. */
        final SortedRows sorter = new SortedRows();
        /**
         * Per stream of this writer, what ClickHouse holds above the stream's mark (loaded with the mark;
         * {@link StoredAbove#NONE} once the mark passed it). A stream not in here is loaded before its next insert.
         */
        final Map<StreamKey, StoredAbove> storedAbove = new HashMap<>();
        final Thread thread;

        Writer(int index) {
            thread = Thread.ofPlatform().name("clickhouse-writer-" + index).daemon().start(() -> writeLoop(this));
        }
    }

    /**
     * A batch waiting for the writer, already encoded as RowBinary rows (row i starts at offsets[i]) by
     * the caller's thread, for a flows table of schema version {@code version} (its columns:
     * {@link Schema#flowColumns}), with the label sets its rows refer to that ClickHouse may not hold yet.
     */
    private record Pending(Batch batch, RowBinary.Out rows, int[] offsets, int version, Map<Long, List<String>> newLabelSets,
                                                  CompletableFuture<Mark> done) {
        StreamKey key() {
            return batch.key();
        }
    }

    FlowWriters(ClickHouseConnection ch, InsertTransport inserts, Migrations migrations, LabelSets labelSets,
                            Duration flushInterval, int maxGroupRows, int writers) {
        this.ch = ch;
        this.inserts = inserts;
        this.migrations = migrations;
        this.labelSets = labelSets;
        this.flushInterval = flushInterval;
        this.maxGroupRows = maxGroupRows;
        for (int i = 0; i < writers; i++) this.writers.add(new Writer(i));
    }

    /**
     * Encodes the batch's rows on the caller's thread and queues them for the stream's writer; a flow
     * that is not a {@code flow.Flow} throws {@link EncodedBatch.MalformedFlowException} (nothing queued).
     */
    CompletableFuture<Mark> append(Batch batch) {
        CompletableFuture<Mark> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new StoreException("ClickHouse store is closed"));
            return f;
        }
        // a schema not yet migrated (ClickHouse unreachable so far) will be: encode for the newest
        int version = migrations.migratedTo() == 0 ? Schema.LATEST_VERSION : migrations.migratedTo();
        boolean labelColumns = version >= Schema.LABEL_SETS_VERSION;
        EncodedBatch flows = batch.flows();
        byte[] buffer = rowBuffer(Math.max(256, flows.size() * ROW_BYTES_ESTIMATE));
        RowBinary.Out rows = new RowBinary.Out(buffer);
        int[] offsets = new int[flows.size() + 1];
        Map<Long, List<String>> newSets = labelColumns ? new HashMap<>() : Map.of();
        long[] labelIds = new long[2];
        FlowColumns reader = READERS.get();
        try {
            for (int i = 0; i < flows.size(); i++) {
                offsets[i] = rows.len;
                FlowColumns c = flows.columns(i, reader, false); // a flow a parser refuses deeper down reads back as far as its columns go
                FlowRowEncoder.encode(rows, c, batch.key(), batch.sequence(), batch.firstFlowSeq() > 0 ? batch.firstFlowSeq() + i : 0, version, labelIds);
                if (labelColumns) {
                    if (isNew(labelIds[0], newSets)) newSets.put(labelIds[0], c.labels(true));
                    if (isNew(labelIds[1], newSets)) newSets.put(labelIds[1], c.labels(false));
                }
            }
        } catch (RuntimeException e) {
            release(rows.buf);
            throw e;
        }
        offsets[flows.size()] = rows.len;
        writers.get(Math.floorMod(batch.key().hashCode(), writers.size())).queue.add(new Pending(batch, rows, offsets, version, newSets, f));
        return f;
    }

    private boolean isNew(long labelSetId, Map<Long, List<String>> batchSets) {
        return labelSetId != 0 && !labelSets.known(labelSetId) && !batchSets.containsKey(labelSetId);
    }

    private byte[] rowBuffer(int min) {
        byte[] b = rowBuffers.pollFirst();
        if (b == null) return new byte[min];
        pooledBytes.addAndGet(-b.length);
        return b.length >= min ? b : new byte[min];
    }

    /** Returns a row buffer whose insert is over (written or failed: a failed batch is encoded again when resent). */
    private void release(byte[] b) {
        if (pooledBytes.addAndGet(b.length) <= poolMaxBytes) rowBuffers.addFirst(b);
        else pooledBytes.addAndGet(-b.length);
    }

    Mark mark(StreamKey key) throws StoreException {
        Mark m = marks.get(key);
        if (m != null) return m;
        return marks.merge(key, loadMark(key), FlowStore::higher);
    }

    /**
     * The mark as {@code ingest_marks} holds it now (raised, never lowered: this process's own writes are in there
     * already), and what {@code flows} holds above it read again before the stream's next insert: another relay may
     * have written the stream since this one last did.
     */
    Mark reloadMark(StreamKey key) throws StoreException {
        Mark m = marks.merge(key, loadMark(key), FlowStore::higher);
        reloadStoredAbove.add(key);
        return m;
    }

    /** The mark from {@code ingest_marks}: written only after a complete flows insert, so everything below it is stored. */
    private Mark loadMark(StreamKey key) throws StoreException {
        long seq = 0, fseq = 0;
        for (String[] r : ch.rows(ch.sql("SELECT max(sequence), max(flow_seq) FROM {db}.ingest_marks WHERE node_name = ") + Sql.str(key.node())
                + " AND epoch = " + Sql.str(key.epoch()))) {
            seq = Math.max(seq, Long.parseLong(r[0]));
            fseq = Math.max(fseq, Long.parseLong(r[1]));
        }
        return new Mark(seq, fseq);
    }

    void notStored(StreamKey key, long sequence) {
        order.failed(key, sequence);
    }

    /**
     * Loads, for streams this writer does not know beyond their marks, the rows {@code flows} holds above
     * each mark: one scan of the stream columns for all of them. Rows with positions count above
     * {@code flow_seq}, rows without (flow_seq 0) above the batch sequence.
     */
    private void loadStoredAbove(Writer w, Map<StreamKey, Mark> streams) throws StoreException {
        List<String> ors = new ArrayList<>();
        Map<StreamKey, Held> held = new HashMap<>();
        streams.forEach((k, m) -> {
            ors.add("(node_name = " + Sql.str(k.node()) + " AND epoch = " + Sql.str(k.epoch()) + " AND (flow_seq > " + m.flowSeq()
                    + " OR flow_seq = 0 AND batch_seq > " + m.sequence() + "))");
            held.put(k, new Held());
        });
        ch.read(ch.sql("SELECT batch_seq, flow_seq, node_name, epoch FROM {db}.flows WHERE ") + String.join(" OR ", ors), (in, b) -> {
            long batchSeq = in.u64(b), flowSeq = in.u64();
            held.get(new StreamKey(in.str(), in.str())).add(batchSeq, flowSeq);
            return true;
        });
        held.forEach((k, h) -> {
            StoredAbove above = StoredAbove.of(h.flowSeqs, h.n, h.unpositioned);
            if (above != StoredAbove.NONE)
                LOG.log(System.Logger.Level.INFO, "{0}/{1}: flows above its mark {2} are in ClickHouse already (from an insert that failed); storing only the others",
                        k.node(), k.epoch(), streams.get(k));
            w.storedAbove.put(k, above);
        });
    }

    /** A stream's rows read back by {@link #loadStoredAbove}. */
    private static final class Held {
        long[] flowSeqs = new long[16];
        int n;
        final Map<Long, Long> unpositioned = new HashMap<>();

        void add(long batchSeq, long flowSeq) {
            if (flowSeq == 0) {
                unpositioned.merge(batchSeq, 1L, Long::sum);
                return;
            }
            if (n == flowSeqs.length) flowSeqs = Arrays.copyOf(flowSeqs, n * 2);
            flowSeqs[n++] = flowSeq;
        }
    }

    private void writeLoop(Writer w) {
        LinkedBlockingQueue<Pending> queue = w.queue;
        List<Pending> group = new ArrayList<>();
        long lastInsertStart = System.nanoTime() - flushInterval.toNanos();
        while (!closed || !queue.isEmpty()) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                group.add(first);
                // at most one insert per flushInterval: the first batch after a quiet spell goes at once,
                // batches arriving while an insert runs (or right after one) are coalesced into the next
                long deadline = lastInsertStart + flushInterval.toNanos();
                int rows = first.batch().flows().size();
                while (rows < maxGroupRows) {
                    long wait = deadline - System.nanoTime();
                    Pending p = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
                    if (p == null) break;
                    group.add(p);
                    rows += p.batch().flows().size();
                }
                lastInsertStart = System.nanoTime();
                writeGroup(w, group);
            } catch (InterruptedException e) {
                if (closed) break;
            } catch (Throwable t) {
                forget(w, group.stream().map(Pending::key).collect(Collectors.toSet()));
                for (Pending p : group) p.done().completeExceptionally(t instanceof StoreException ? t : new StoreException("ClickHouse write failed: " + t, t));
            } finally {
                for (Pending p : group) release(p.rows().buf);
                group.clear();
            }
        }
        for (Pending p; (p = queue.poll()) != null; ) p.done().completeExceptionally(new StoreException("ClickHouse store is closed"));
    }

    private void writeGroup(Writer w, List<Pending> group) throws StoreException {
        Set<StreamKey> keys = group.stream().map(Pending::key).collect(Collectors.toCollection(HashSet::new));
        try {
            if (migrations.migratedTo() == 0) migrations.migrate(Integer.MAX_VALUE);
            Map<StreamKey, Mark> next = new LinkedHashMap<>(), unknown = new HashMap<>();
            for (StreamKey k : keys) {
                if (reloadStoredAbove.remove(k)) w.storedAbove.remove(k);
                next.put(k, mark(k));
                if (!w.storedAbove.containsKey(k)) unknown.put(k, next.get(k));
            }
            if (!unknown.isEmpty()) loadStoredAbove(w, unknown);
            Map<String, List<SortedRows.Run>> runs = new LinkedHashMap<>(); // by row layout (columns)
            Map<Long, List<String>> newSets = new HashMap<>();
            List<Mark> results = new ArrayList<>(group.size());
            List<Pending> accepted = new ArrayList<>(group.size());
            for (Pending p : group) {
                Batch b = p.batch();
                Mark m = next.get(p.key());
                String refusal = order.refusal(p.key(), m, b.sequence());
                if (refusal != null) {
                    p.done().completeExceptionally(new StreamOrder.OutOfOrderException(refusal));
                    continue;
                }
                // flows below the mark are stored; of the others, those an insert that failed left in ClickHouse
                StoredAbove held = w.storedAbove.get(p.key());
                int skip = FlowStore.alreadyStored(m, b);
                if (held.addMissing(runs.computeIfAbsent(Schema.flowColumns(p.version()), c -> new ArrayList<>()), p.rows().buf, p.offsets(), b, skip) > 0) {
                    p.newLabelSets().forEach((id, labels) -> { if (!labelSets.known(id)) newSets.put(id, labels); });
                    long partly = b.firstFlowSeq() == 0 ? held.unpositionedRows(b.sequence()) : 0;
                    if (partly > 0)
                        LOG.log(System.Logger.Level.WARNING, "{0}/{1} batch {2}: {3} of its {4} flows are in ClickHouse from an insert cut short; "
                                + "it has no flow positions to tell which, so it is stored whole again ({3} flows twice)",
                                p.key().node(), p.key().epoch(), b.sequence(), partly, b.flows().size());
                }
                Mark nm = FlowStore.after(m, b);
                next.put(p.key(), nm);
                results.add(nm);
                accepted.add(p);
            }
            // label sets before the rows that refer to them, so a reader never finds a dangling id
            if (!newSets.isEmpty()) {
                RowBinary.Out sets = FlowRowEncoder.labelSetRows(newSets);
                inserts.insert("label_sets", "id, labels", sets.buf, sets.len);
            }
            for (var r : runs.entrySet()) if (!r.getValue().isEmpty()) insertFlows(w, r.getKey(), r.getValue());
            labelSets.stored(newSets);
            RowBinary.Out mk = new RowBinary.Out(256);
            long now = System.currentTimeMillis() / 1000;
            for (var e : next.entrySet()) {
                mk.str(e.getKey().node());
                mk.str(e.getKey().epoch());
                mk.u64(e.getValue().sequence());
                mk.u64(e.getValue().flowSeq());
                mk.u32(now);
            }
            inserts.insert("ingest_marks", "node_name, epoch, sequence, flow_seq, stored_at", mk.buf, mk.len);
            next.forEach((k, m) -> {
                marks.merge(k, m, FlowStore::higher);
                order.stored(k, m);
                w.storedAbove.computeIfPresent(k, (x, held) -> held.passed(m));
            });
            ch.healthy(true);
            for (int i = 0; i < accepted.size(); i++) accepted.get(i).done().complete(results.get(i));
        } catch (StoreException e) {
            // unknown how much ClickHouse kept: reload these streams' marks and what is stored above them
            // next time, and store their later batches only in order until the failed ones are back
            forget(w, keys);
            for (Pending p : group) {
                if (p.done().isDone()) continue;
                order.failed(p.key(), p.batch().sequence());
                p.done().completeExceptionally(e);
            }
        }
    }

    /** After a failed insert: the streams' marks, and what ClickHouse holds above them, are loaded again before their next insert. */
    private void forget(Writer w, Set<StreamKey> keys) {
        keys.forEach(marks::remove);
        keys.forEach(w.storedAbove::remove);
    }

    /** The group's flows rows, in the table's ORDER BY order so ClickHouse need not sort them. */
    private void insertFlows(Writer w, String columns, List<SortedRows.Run> runs) throws StoreException {
        int n = w.sorter.sortInto(runs);
        try {
            inserts.insert("flows", columns, w.sorter.out(), n);
        } catch (StoreException e) {
            // a failed request (a timeout) may still have slices of the body queued on its closing
            // connection: the next insert must not write into the same buffer
            w.sorter.dropOutput();
            throw e;
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            for (Writer w : writers) w.thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
