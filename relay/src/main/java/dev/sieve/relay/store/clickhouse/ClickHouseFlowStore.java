package dev.sieve.relay.store.clickhouse;

import com.clickhouse.client.api.Client;
import com.clickhouse.client.api.insert.InsertSettings;
import com.clickhouse.client.api.query.QueryResponse;
import com.clickhouse.client.api.query.QuerySettings;
import com.clickhouse.data.ClickHouseFormat;
import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FilterPlan;
import dev.sieve.relay.query.FilterPlan.Cond;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.FlowRow;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.EncodedFlows;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import dev.sieve.relay.store.StreamOrder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Flows in ClickHouse (see {@link Schema}). Appends are group-committed by writer threads, each
 * owning a share of the streams (so a stream's batches stay in order): pending batches are
 * coalesced into one RowBinary INSERT (at most every
 * {@code flushInterval} or {@code maxGroupRows} rows), then one INSERT of the new ingest marks,
 * and only then are the appends completed — so a batch is acknowledged only once ClickHouse holds
 * it, and ClickHouse sees a few large inserts per second instead of one per batch. ClickHouse
 * parses, sorts and writes one INSERT on one thread, so more than one writer is what lets it use
 * more than one core.
 *
 * <p>Exactly-once: a stream's mark (node, epoch → highest stored batch sequence and flow position)
 * comes only from {@code ingest_marks}, whose rows are written after a complete flows insert. A
 * flows insert that failed may still have left rows (one cut short commits its complete rows, in
 * table-key order, so any subset of the group; one that completed may have lost its marks insert),
 * so the first time a writer meets a stream, and after any failed insert, it also loads what
 * {@code flows} holds of the stream above the mark ({@link StoredAbove}) and stores only the flows
 * not there — each flow once, also in the materialized views' counts.
 */
public final class ClickHouseFlowStore implements FlowStore {
  public record Config(String url, String database, String user, String password, int retentionDays,
                       Duration flushInterval, int maxGroupRows, int writers) {
    public Config {
      Sql.ident(database);
      if (retentionDays < 1) throw new IllegalArgumentException("retention-days must be >= 1, got " + retentionDays);
      if (writers < 1) throw new IllegalArgumentException("writers must be >= 1, got " + writers);
    }

    public Config(String url, String database, String user, String password, int retentionDays,
                  Duration flushInterval, int maxGroupRows) {
      this(url, database, user, password, retentionDays, flushInterval, maxGroupRows, DEFAULT_WRITERS);
    }

    public static Config of(String url, String database, String user, String password, int retentionDays) {
      return new Config(url, database, user, password, retentionDays, Duration.ofSeconds(1), DEFAULT_MAX_GROUP_ROWS);
    }
  }

  /** Most rows in one INSERT. */
  public static final int DEFAULT_MAX_GROUP_ROWS = 200_000;

  /** Concurrent INSERTs by default: two keep both cores of a small server busy. */
  public static final int DEFAULT_WRITERS = 2;

  private static final System.Logger LOG = System.getLogger(ClickHouseFlowStore.class.getName());
  private static final DateTimeFormatter YYYYMMDD = DateTimeFormatter.BASIC_ISO_DATE;

  private final Config cfg;
  private final String db;
  private final Client client;
  /** Per stream, what ClickHouse holds; only ever raised (a slow read must not undo a newer write), dropped after a failed write. */
  private final Map<StreamKey, Mark> marks = new ConcurrentHashMap<>();
  /** After a failed write, a stream's batches are stored only in sequence order until the failed ones are back. */
  private final StreamOrder order = new StreamOrder();
  /**
   * Label sets ClickHouse is known to hold (inserted by this relay, or read back): what writers need
   * not insert again and what readers resolve ids with. Cleared past LABEL_SETS_MAX (inserting a set
   * again is harmless, a reader reloads).
   */
  private final Map<Long, List<String>> labelSets = new ConcurrentHashMap<>();
  private static final int LABEL_SETS_MAX = 1_000_000;
  /** Bytes reserved per row before encoding a batch (a bench row is ~380). */
  private static final int ROW_BYTES_ESTIMATE = 448;
  private volatile long labelSetsLoadedAt;
  /**
   * Row buffers of batches already written, reused by the next batches: encoding would otherwise
   * allocate the whole ingest rate (~130 MB/s at 300k flows/s) in arrays that live until their
   * group is inserted, a second or two, i.e. through several young collections that copy them.
   * Bounded by {@link #poolMaxBytes}.
   */
  private final java.util.concurrent.ConcurrentLinkedDeque<byte[]> rowBuffers = new java.util.concurrent.ConcurrentLinkedDeque<>();
  private final AtomicLong pooledBytes = new AtomicLong();
  private final long poolMaxBytes = Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 16);
  private final List<Writer> writers = new ArrayList<>();
  private final AtomicLong errors = new AtomicLong();
  private volatile boolean closed;
  private volatile boolean healthy;
  private volatile int migratedTo;
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
  private final String insertUrl;
  private final String basicAuth;

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
   * the caller's thread, for a flows table with label columns or without (schema before migration 4),
   * with the label sets its rows refer to that ClickHouse may not hold yet.
   */
  private record Pending(Batch batch, RowBinary.Out rows, int[] offsets, boolean labelColumns, Map<Long, List<String>> newLabelSets,
                         CompletableFuture<Mark> done) {
    StreamKey key() {
      return batch.key();
    }
  }

  public ClickHouseFlowStore(Config cfg) {
    this.cfg = cfg;
    this.db = Sql.ident(cfg.database());
    this.client = new Client.Builder()
        .addEndpoint(cfg.url())
        .setUsername(cfg.user())
        .setPassword(cfg.password() == null ? "" : cfg.password())
        .compressServerResponse(false)
        .compressClientRequest(false)
        .useHttpCompression(false)
        .setConnectTimeout(5, ChronoUnit.SECONDS)
        .setSocketTimeout(120, ChronoUnit.SECONDS)
        .build();
    String base = cfg.url().endsWith("/") ? cfg.url() : cfg.url() + "/";
    this.insertUrl = base + "?query=";
    this.basicAuth = "Basic " + java.util.Base64.getEncoder().encodeToString(
        (cfg.user() + ":" + (cfg.password() == null ? "" : cfg.password())).getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < cfg.writers(); i++) writers.add(new Writer(i));
  }

  public Config config() {
    return cfg;
  }

  @Override
  public String kind() {
    return "clickhouse";
  }

  @Override
  public long capacity() {
    return 0;
  }

  @Override
  public boolean ready() {
    if (closed) return false;
    if (migratedTo == 0) {
      try {
        migrate();
      } catch (StoreException e) {
        return false;
      }
    }
    return healthy || client.ping(2000);
  }

  public long errors() {
    return errors.get();
  }

  private String sql(String template) {
    return template.replace("{db}", db);
  }

  // ------------------------------------------------------------------ plumbing

  private void exec(String statement) throws StoreException {
    try {
      client.execute(statement).get(120, TimeUnit.SECONDS).close();
    } catch (Exception e) {
      errors.incrementAndGet();
      healthy = false;
      throw new StoreException("ClickHouse: " + rootMessage(e), e);
    }
  }

  /** Runs a query and returns its TabSeparated rows, split into fields (values unescaped). */
  private List<String[]> rows(String query) throws StoreException {
    try (QueryResponse r = client.query(query + " FORMAT TabSeparated", new QuerySettings().setFormat(ClickHouseFormat.TabSeparated)).get(120, TimeUnit.SECONDS);
         BufferedReader in = new BufferedReader(new InputStreamReader(r.getInputStream(), StandardCharsets.UTF_8))) {
      List<String[]> out = new ArrayList<>();
      for (String line; (line = in.readLine()) != null; ) {
        String[] f = line.split("\t", -1);
        for (int i = 0; i < f.length; i++) f[i] = unescapeTsv(f[i]);
        out.add(f);
      }
      healthy = true;
      return out;
    } catch (Exception e) {
      errors.incrementAndGet();
      healthy = false;
      throw new StoreException("ClickHouse: " + rootMessage(e), e);
    }
  }

  private static String unescapeTsv(String s) {
    if (s.indexOf('\\') < 0) return s;
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        b.append(switch (n) { case 't' -> '\t'; case 'n' -> '\n'; case 'r' -> '\r'; case '0' -> '\0'; default -> n; });
      } else b.append(c);
    }
    return b.toString();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }

  // ------------------------------------------------------------------ schema

  /** Creates the database and applies every migration not yet recorded; idempotent. */
  public synchronized int migrate() throws StoreException {
    return migrate(Integer.MAX_VALUE);
  }

  /** Applies migrations up to {@code target} (tests use this to build an old schema). */
  public synchronized int migrate(int target) throws StoreException {
    exec("CREATE DATABASE IF NOT EXISTS " + db);
    exec(sql(Schema.MIGRATIONS_TABLE));
    Set<Integer> applied = new HashSet<>();
    for (String[] r : rows(sql("SELECT version FROM {db}.schema_migrations"))) applied.add(Integer.parseInt(r[0]));
    int current = applied.stream().mapToInt(Integer::intValue).max().orElse(0);
    for (Schema.Migration m : Schema.migrations()) {
      if (m.version() > target || applied.contains(m.version())) continue;
      LOG.log(System.Logger.Level.INFO, "ClickHouse schema: applying migration {0} ({1})", m.version(), m.name());
      for (String st : m.statements()) {
        if (!columnAdded(st)) exec(sql(st));
      }
      exec(sql("INSERT INTO {db}.schema_migrations (version, name, applied_at) VALUES (" + m.version() + ", "
          + Sql.str(m.name()) + ", now())"));
      current = Math.max(current, m.version());
    }
    migratedTo = current;
    healthy = true;
    return current;
  }

  private static final java.util.regex.Pattern ADD_COLUMN = java.util.regex.Pattern.compile("ALTER TABLE \\{db}\\.(\\w+) ADD COLUMN (\\w+) .*");

  /**
   * Whether a statement adds a column that is already there (18.16 has no ADD COLUMN IF NOT EXISTS):
   * a schema created by hand for a cluster, or a migration interrupted after its ALTER.
   */
  private boolean columnAdded(String statement) throws StoreException {
    var m = ADD_COLUMN.matcher(statement);
    if (!m.matches()) return false;
    return !rows("SELECT name FROM system.columns WHERE database = " + Sql.str(cfg.database()) + " AND table = " + Sql.str(m.group(1))
        + " AND name = " + Sql.str(m.group(2))).isEmpty();
  }

  /** Versions recorded in schema_migrations, ascending. */
  public List<Integer> appliedMigrations() throws StoreException {
    return rows(sql("SELECT version FROM {db}.schema_migrations ORDER BY version")).stream().map(r -> Integer.parseInt(r[0])).toList();
  }

  // ------------------------------------------------------------------ ingest

  @Override
  public CompletableFuture<Mark> appendAsync(Batch batch) {
    CompletableFuture<Mark> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new StoreException("ClickHouse store is closed"));
      return f;
    }
    // a schema not yet migrated (ClickHouse unreachable so far) will be: encode for the newest
    boolean labelColumns = migratedTo == 0 || migratedTo >= Schema.LABEL_SETS_VERSION;
    RowBinary.Out rows = new RowBinary.Out(rowBuffer(Math.max(256, batch.flows().size() * ROW_BYTES_ESTIMATE)));
    int[] offsets = new int[batch.flows().size() + 1];
    Map<Long, List<String>> newSets = labelColumns ? new HashMap<>() : Map.of();
    long[] labelIds = new long[2];
    List<Flow> flows = batch.flows();
    for (int i = 0; i < flows.size(); i++) {
      offsets[i] = rows.len;
      encodeRow(rows, flows, i, batch.key(), batch.sequence(), batch.firstFlowSeq() > 0 ? batch.firstFlowSeq() + i : 0, labelColumns, labelIds);
      if (labelColumns) {
        // a label set not seen before is rare: only then is the flow parsed for its labels
        if (isNew(labelIds[0], newSets)) newSets.put(labelIds[0], flows.get(i).getSource().getLabelsList());
        if (isNew(labelIds[1], newSets)) newSets.put(labelIds[1], flows.get(i).getDestination().getLabelsList());
      }
    }
    offsets[batch.flows().size()] = rows.len;
    writers.get(Math.floorMod(batch.key().hashCode(), writers.size())).queue.add(new Pending(batch, rows, offsets, labelColumns, newSets, f));
    return f;
  }

  private byte[] rowBuffer(int min) {
    byte[] b = rowBuffers.pollFirst();
    if (b == null) return new byte[min];
    pooledBytes.addAndGet(-b.length);
    return b.length >= min ? b : new byte[min];
  }

  /** Returns the row buffers of a group whose insert is over (written or failed: a failed batch is encoded again when resent). */
  private void release(List<Pending> group) {
    for (Pending p : group) {
      byte[] b = p.rows().buf;
      if (pooledBytes.addAndGet(b.length) <= poolMaxBytes) rowBuffers.addFirst(b);
      else pooledBytes.addAndGet(-b.length);
    }
  }

  @Override
  public Mark mark(StreamKey key) throws StoreException {
    Mark m = marks.get(key);
    if (m != null) return m;
    return marks.merge(key, loadMark(key), FlowStore::higher);
  }

  /** The mark from {@code ingest_marks}: written only after a complete flows insert, so everything below it is stored. */
  private Mark loadMark(StreamKey key) throws StoreException {
    long seq = 0, fseq = 0;
    for (String[] r : rows(sql("SELECT max(sequence), max(flow_seq) FROM {db}.ingest_marks" + streamIs(key)))) {
      seq = Math.max(seq, Long.parseLong(r[0]));
      fseq = Math.max(fseq, Long.parseLong(r[1]));
    }
    return new Mark(seq, fseq);
  }

  private static String streamIs(StreamKey key) {
    return " WHERE node_name = " + Sql.str(key.node()) + " AND epoch = " + Sql.str(key.epoch());
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
    String q = sql("SELECT batch_seq, flow_seq, node_name, epoch FROM {db}.flows WHERE " + String.join(" OR ", ors) + " FORMAT RowBinary");
    try (QueryResponse r = client.query(q, new QuerySettings().setFormat(ClickHouseFormat.RowBinary)).get(120, TimeUnit.SECONDS)) {
      RowBinary.In in = new RowBinary.In(new java.io.BufferedInputStream(r.getInputStream(), 1 << 16));
      for (int b; (b = in.firstByteOrEnd()) >= 0; ) {
        long batchSeq = in.u64(b), flowSeq = in.u64();
        held.get(new StreamKey(in.str(), in.str())).add(batchSeq, flowSeq);
      }
    } catch (Exception e) {
      errors.incrementAndGet();
      healthy = false;
      throw new StoreException("ClickHouse: " + rootMessage(e), e);
    }
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
      if (n == flowSeqs.length) flowSeqs = java.util.Arrays.copyOf(flowSeqs, n * 2);
      flowSeqs[n++] = flowSeq;
    }
  }

  private void writeLoop(Writer w) {
    LinkedBlockingQueue<Pending> queue = w.queue;
    List<Pending> group = new ArrayList<>();
    long lastInsertStart = System.nanoTime() - cfg.flushInterval().toNanos();
    while (!closed || !queue.isEmpty()) {
      try {
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) continue;
        group.add(first);
        // at most one insert per flushInterval: the first batch after a quiet spell goes at once,
        // batches arriving while an insert runs (or right after one) are coalesced into the next
        long deadline = lastInsertStart + cfg.flushInterval().toNanos();
        int rows = first.batch().flows().size();
        while (rows < cfg.maxGroupRows()) {
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
        release(group);
        group.clear();
      }
    }
    for (Pending p; (p = queue.poll()) != null; ) p.done().completeExceptionally(new StoreException("ClickHouse store is closed"));
  }

  @Override
  public void notStored(StreamKey key, long sequence) {
    order.failed(key, sequence);
  }

  private void writeGroup(Writer w, List<Pending> group) throws StoreException {
    Set<StreamKey> keys = group.stream().map(Pending::key).collect(Collectors.toCollection(HashSet::new));
    try {
      if (migratedTo == 0) migrate();
      Map<StreamKey, Mark> next = new LinkedHashMap<>(), unknown = new HashMap<>();
      for (StreamKey k : keys) {
        next.put(k, mark(k));
        if (!w.storedAbove.containsKey(k)) unknown.put(k, next.get(k));
      }
      if (!unknown.isEmpty()) loadStoredAbove(w, unknown);
      List<SortedRows.Run> runs = new ArrayList<>(), runsV1 = new ArrayList<>();
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
        if (held.addMissing(p.labelColumns() ? runs : runsV1, p.rows().buf, p.offsets(), b, skip) > 0) {
          p.newLabelSets().forEach((id, labels) -> { if (!labelSets.containsKey(id)) newSets.put(id, labels); });
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
        RowBinary.Out sets = labelSetRows(newSets);
        insert("label_sets", "id, labels", sets.buf, sets.len);
      }
      if (!runs.isEmpty()) insertFlows(w, Schema.FLOW_COLUMNS, runs);
      if (!runsV1.isEmpty()) insertFlows(w, Schema.FLOW_COLUMNS_V1, runsV1);
      if (labelSets.size() > LABEL_SETS_MAX) labelSets.clear();
      labelSets.putAll(newSets);
      RowBinary.Out mk = new RowBinary.Out(256);
      long now = System.currentTimeMillis() / 1000;
      for (var e : next.entrySet()) {
        mk.str(e.getKey().node());
        mk.str(e.getKey().epoch());
        mk.u64(e.getValue().sequence());
        mk.u64(e.getValue().flowSeq());
        mk.u32(now);
      }
      insert("ingest_marks", "node_name, epoch, sequence, flow_seq, stored_at", mk.buf, mk.len);
      next.forEach((k, m) -> {
        marks.merge(k, m, FlowStore::higher);
        order.stored(k, m);
        w.storedAbove.computeIfPresent(k, (x, held) -> held.passed(m));
      });
      healthy = true;
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
      insert("flows", columns, w.sorter.out(), n);
    } catch (StoreException e) {
      // a failed request (a timeout) may still have slices of the body queued on its closing
      // connection: the next insert must not write into the same buffer
      w.sorter.dropOutput();
      throw e;
    }
  }

  /**
   * Bulk inserts go as one HTTP POST with a Content-Length (JDK HttpClient). Measured on ClickHouse
   * 18.16 here: 200k rows (127 MB RowBinary) take ~0.9 s this way and ~2.4 s through client-v2's
   * insert(), which streams 8 KiB chunks. Queries, commands and schema use client-v2.
   */
  private void insert(String table, String columns, byte[] rows, int length) throws StoreException {
    String q = "INSERT INTO " + db + "." + Sql.ident(table) + " (" + columns + ") FORMAT RowBinary";
    try {
      var body = java.net.http.HttpRequest.BodyPublishers.fromPublisher(new Slices(rows, length), length);
      var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(insertUrl + java.net.URLEncoder.encode(q, StandardCharsets.UTF_8)))
          .timeout(Duration.ofSeconds(120))
          .header("Authorization", basicAuth)
          .POST(body)
          .build();
      var resp = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200) throw new IOException("HTTP " + resp.statusCode() + ": " + resp.body().lines().findFirst().orElse(""));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      errors.incrementAndGet();
      throw new StoreException("ClickHouse insert into " + table + ": interrupted", e);
    } catch (Exception e) {
      errors.incrementAndGet();
      healthy = false;
      throw new StoreException("ClickHouse insert into " + table + ": " + rootMessage(e), e);
    }
  }

  /**
   * An insert body as slices of the rows buffer, handed to the HTTP client without a copy
   * ({@code BodyPublishers.ofByteArray} copies the whole body into 16 KiB buffers first). The
   * buffer is not touched until the response has arrived.
   */
  private static final class Slices implements java.util.concurrent.Flow.Publisher<java.nio.ByteBuffer> {
    private static final int SLICE = 1 << 20;
    private final byte[] buf;
    private final int len;

    Slices(byte[] buf, int len) {
      this.buf = buf;
      this.len = len;
    }

    @Override
    public void subscribe(java.util.concurrent.Flow.Subscriber<? super java.nio.ByteBuffer> s) {
      s.onSubscribe(new java.util.concurrent.Flow.Subscription() {
        private int at;
        private long demand;
        private boolean emitting, done;

        @Override
        public void request(long n) {
          synchronized (this) {
            if (n <= 0) {
              done = true;
              s.onError(new IllegalArgumentException("request(" + n + ")"));
              return;
            }
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            if (emitting) return; // a request from inside onNext: the loop below goes on
            emitting = true;
          }
          while (true) {
            int from, n2;
            synchronized (this) {
              if (done || demand == 0 || at >= len) {
                emitting = false;
                if (!done && at >= len) {
                  done = true;
                  break;
                }
                return;
              }
              demand--;
              from = at;
              n2 = Math.min(SLICE, len - at);
              at += n2;
            }
            s.onNext(java.nio.ByteBuffer.wrap(buf, from, n2));
          }
          s.onComplete();
        }

        @Override
        public synchronized void cancel() {
          done = true;
        }
      });
    }
  }

  /** Encodes flows as the relay does before inserting (from their bytes for {@link EncodedFlows}); returns the bytes written (benchmarks). */
  public static long encodeForBenchmark(List<Flow> flows) {
    RowBinary.Out o = new RowBinary.Out(flows.size() * ROW_BYTES_ESTIMATE);
    StreamKey k = new StreamKey("bench", "bench");
    long[] ids = new long[2];
    for (int i = 0; i < flows.size(); i++) encodeRow(o, flows, i, k, 1, i + 1, true, ids);
    return o.len;
  }

  /** The row {@link #appendAsync} would write for one flow, from its bytes or parsed (tests compare the two). */
  static byte[] row(Flow flow, com.google.protobuf.ByteString encoded, boolean labelColumns) {
    RowBinary.Out o = new RowBinary.Out(512);
    long[] ids = new long[2];
    StreamKey k = new StreamKey("n", "e");
    if (encoded == null) encode(o, flow, k, 7, 42, labelColumns, ids);
    else if (!encodeBytes(o, encoded, k, 7, 42, labelColumns, ids)) return null;
    return java.util.Arrays.copyOf(o.buf, o.len);
  }

  private boolean isNew(long labelSetId, Map<Long, List<String>> batchSets) {
    return labelSetId != 0 && !labelSets.containsKey(labelSetId) && !batchSets.containsKey(labelSetId);
  }

  /**
   * Row {@code i} of {@code flows}: from the flow's bytes when it arrived encoded and the scan
   * handles it, from the parsed flow otherwise (a flow that does not parse throws).
   */
  private static void encodeRow(RowBinary.Out o, List<Flow> flows, int i, StreamKey key, long batchSeq, long flowSeq,
                                boolean labelColumns, long[] labelIds) {
    if (flows instanceof EncodedFlows e && encodeBytes(o, e.encoded(i), key, batchSeq, flowSeq, labelColumns, labelIds)) return;
    encode(o, flows.get(i), key, batchSeq, flowSeq, labelColumns, labelIds);
  }

  private static boolean encodeBytes(RowBinary.Out o, com.google.protobuf.ByteString flow, StreamKey key, long batchSeq, long flowSeq,
                                     boolean labelColumns, long[] labelIds) {
    byte[] in = FlowBlob.scratch(flow.size());
    flow.copyTo(in, 0);
    return EncodedRow.encode(o, in, flow.size(), key, batchSeq, flowSeq, labelColumns, labelIds);
  }

  private static RowBinary.Out labelSetRows(Map<Long, List<String>> sets) {
    RowBinary.Out o = new RowBinary.Out(4096);
    sets.forEach((id, labels) -> {
      o.u64(id);
      o.varint(labels.size());
      for (String l : labels) o.str(l);
    });
    return o;
  }

  /**
   * One flows row in RowBinary, straight from the Flow: column order {@link Schema#FLOW_COLUMNS}, or
   * {@link Schema#FLOW_COLUMNS_V1} with the labels left in the flow column for a schema before
   * migration 4.
   */
  static void encode(RowBinary.Out o, Flow f, StreamKey key, long batchSeq, long flowSeq, boolean labelColumns, long[] labelIds) {
    long t = Timestamps.nanos(f);
    o.u32(Math.floorDiv(t, 1_000_000_000L));
    o.u32(Math.floorMod(t, 1_000_000_000L));
    o.u8(f.getVerdictValue());
    o.u16(f.getDropReasonDescValue());
    o.u8(f.getTrafficDirectionValue());
    var l4 = f.getL4();
    int proto, sport = 0, dport = 0;
    switch (l4.getProtocolCase()) {
      case TCP -> { proto = FlowRow.TCP; sport = l4.getTCP().getSourcePort(); dport = l4.getTCP().getDestinationPort(); }
      case UDP -> { proto = FlowRow.UDP; sport = l4.getUDP().getSourcePort(); dport = l4.getUDP().getDestinationPort(); }
      case SCTP -> { proto = FlowRow.SCTP; sport = l4.getSCTP().getSourcePort(); dport = l4.getSCTP().getDestinationPort(); }
      case ICMPV4 -> proto = FlowRow.ICMPV4;
      case ICMPV6 -> proto = FlowRow.ICMPV6;
      default -> proto = 0;
    }
    o.u8(proto);
    var s = f.getSource();
    var d = f.getDestination();
    o.str(s.getNamespace());
    o.str(s.getPodName());
    o.str(FlowRow.workload(s));
    o.u32(Integer.toUnsignedLong(s.getIdentity()));
    o.str(d.getNamespace());
    o.str(d.getPodName());
    o.str(FlowRow.workload(d));
    o.u32(Integer.toUnsignedLong(d.getIdentity()));
    o.str(f.getIP().getSource());
    o.str(f.getIP().getDestination());
    o.u16(sport);
    o.u16(dport);
    o.str(f.getNodeName());
    o.str(key.epoch());
    o.u64(batchSeq);
    o.u64(flowSeq);
    o.str(f.getUuid());
    // FlowRow.policies(f), written without building the strings
    o.varint(f.getEgressAllowedByCount() + f.getIngressAllowedByCount() + f.getEgressDeniedByCount() + f.getIngressDeniedByCount());
    for (var p : f.getEgressAllowedByList()) o.strConcat("allow:", p.getKind(), "/", p.getNamespace(), "/", p.getName());
    for (var p : f.getIngressAllowedByList()) o.strConcat("allow:", p.getKind(), "/", p.getNamespace(), "/", p.getName());
    for (var p : f.getEgressDeniedByList()) o.strConcat("deny:", p.getKind(), "/", p.getNamespace(), "/", p.getName());
    for (var p : f.getIngressDeniedByList()) o.strConcat("deny:", p.getKind(), "/", p.getNamespace(), "/", p.getName());
    FlowBlob.write(o, f, !labelColumns, labelIds);
    if (labelColumns) {
      o.u64(labelIds[0]);
      o.u64(labelIds[1]);
    }
  }

  // ------------------------------------------------------------------ queries

  /** Whether a condition translates to SQL exactly. */
  static boolean sqlSupported(Cond c) {
    return switch (c) {
      case FilterPlan.IntIn in -> true;
      case FilterPlan.PodIn p -> true;
      // exact only where string equality is the same test: canonical IPv4 literals; node-name patterns are
      // lower-cased FQDN patterns with an implied cluster, left to the matcher
      case FilterPlan.IpIn ip -> ip.values().stream().allMatch(ClickHouseFlowStore::canonicalIpv4);
      case FilterPlan.NodeIn n -> false;
      case FilterPlan.LabelIn l -> false;
    };
  }

  private static boolean canonicalIpv4(String v) {
    return v.matches("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}") && java.util.Arrays.stream(v.split("\\.")).allMatch(o -> Integer.parseInt(o) < 256);
  }

  static String toSql(Cond c) {
    return switch (c) {
      case FilterPlan.IntIn in -> {
        String col = switch (in.col()) {
          case VERDICT -> "verdict";
          case DROP_REASON -> "drop_reason";
          case DIRECTION -> "direction";
          case PROTOCOL -> "protocol";
          case SRC_PORT -> "src_port";
          case DST_PORT -> "dst_port";
          case SRC_IDENTITY -> "src_identity";
          case DST_IDENTITY -> "dst_identity";
        };
        yield in.values().length == 1 ? col + " = " + in.values()[0] : col + " IN " + Sql.numList(in.values());
      }
      case FilterPlan.PodIn p -> {
        String ns = p.source() ? "src_namespace" : "dst_namespace", pod = p.source() ? "src_pod" : "dst_pod";
        List<String> ors = new ArrayList<>();
        for (var v : p.values()) {
          List<String> ands = new ArrayList<>();
          ands.add(ns + " = " + Sql.str(v.namespace()));
          if (!v.prefix().isEmpty()) ands.add(pod + " LIKE " + Sql.likePrefix(v.prefix()));
          ands.add("NOT (" + ns + " = '' AND " + pod + " = '')");
          ors.add("(" + String.join(" AND ", ands) + ")");
        }
        yield "(" + String.join(" OR ", ors) + ")";
      }
      case FilterPlan.IpIn ip -> (ip.source() ? "src_ip" : "dst_ip") + " IN " + Sql.strList(ip.values());
      case FilterPlan.NodeIn n -> throw new IllegalStateException("node names are matched in Java");
      case FilterPlan.LabelIn l -> throw new IllegalStateException("labels are not SQL columns");
    };
  }

  /** The WHERE clause for a query plan (time range + whitelist superset + exact blacklist). */
  static String where(FlowQuery q, FilterPlan.QueryPlan plan) {
    List<String> ands = new ArrayList<>();
    if (q.since() != null) {
      long s = q.sinceNanos();
      long sec = Math.floorDiv(s, 1_000_000_000L), ns = Math.floorMod(s, 1_000_000_000L);
      ands.add("time >= toDateTime(" + sec + ")");
      if (ns > 0) ands.add("(time > toDateTime(" + sec + ") OR nanos >= " + ns + ")");
    }
    if (q.until() != null) {
      long u = q.untilNanos();
      long sec = Math.floorDiv(u, 1_000_000_000L), ns = Math.floorMod(u, 1_000_000_000L);
      ands.add("time <= toDateTime(" + sec + ")");
      ands.add("(time < toDateTime(" + sec + ") OR nanos <= " + ns + ")");
    }
    if (!plan.whitelist().isEmpty()) {
      List<String> ors = new ArrayList<>();
      for (FilterPlan p : plan.whitelist()) ors.add(conj(p));
      ands.add("(" + String.join(" OR ", ors) + ")");
    }
    for (FilterPlan p : plan.exactBlacklist()) ands.add("NOT " + conj(p));
    return ands.isEmpty() ? "" : " WHERE " + String.join(" AND ", ands);
  }

  private static String conj(FilterPlan p) {
    if (p.conds().isEmpty()) return "(1 = 1)";
    return "(" + p.conds().stream().map(ClickHouseFlowStore::toSql).collect(Collectors.joining(" AND ")) + ")";
  }

  /** A row read back: its time, and the flow when the query selected {@link #FLOW_READ_COLUMNS}. */
  private record Row(long sec, long nanos, Flow flow) {}

  /** What a flow is rebuilt from: the flow column plus every column it was stripped of (see {@link FlowBlob}). */
  private static final String FLOW_READ_COLUMNS = "time, nanos, verdict, drop_reason, direction, src_namespace, src_pod, src_identity, "
      + "src_labels, dst_namespace, dst_pod, dst_identity, dst_labels, src_ip, dst_ip, node_name, uuid, policies, flow";

  @Override
  public void query(FlowQuery q, Consumer<Flow> sink) throws StoreException {
    FilterPlan.QueryPlan plan = FilterPlan.QueryPlan.of(q, ClickHouseFlowStore::sqlSupported);
    java.util.function.Predicate<Flow> matcher = plan.needsMatcher() ? q.matcher() : null;
    String where = where(q, plan);
    boolean newest = !q.first();
    String dir = newest ? " DESC" : "";
    String order = " ORDER BY time" + dir + ", nanos" + dir;
    long n = q.number();
    List<Flow> out = new ArrayList<>();
    if (n > 0 && matcher == null) {
      // phase 1: which (time, nanos) make the top N — reads two small columns only
      List<Row> keys = new ArrayList<>();
      read("SELECT time, nanos FROM {db}.flows" + where + order + " LIMIT " + n, false, r -> { keys.add(r); return true; });
      if (keys.isEmpty()) return;
      long lo = keys.stream().mapToLong(Row::sec).min().orElseThrow(), hi = keys.stream().mapToLong(Row::sec).max().orElseThrow();
      String narrowed = (where.isEmpty() ? " WHERE " : where + " AND ") + "time >= toDateTime(" + lo + ") AND time <= toDateTime(" + hi + ")";
      // phase 2: the flows of just that time window
      read("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows" + narrowed + order + " LIMIT " + n, true, r -> { out.add(r.flow()); return true; });
    } else if (n > 0) {
      // a filter part that only Java can evaluate: walk time windows from the newest (or oldest)
      // matching second, growing the window, so ClickHouse never sorts more than one window
      List<String[]> range = rows(sql("SELECT toUInt32(min(time)), toUInt32(max(time)), count() FROM {db}.flows" + where));
      if (range.isEmpty() || Long.parseLong(range.getFirst()[2]) == 0) return;
      long min = Long.parseLong(range.getFirst()[0]), max = Long.parseLong(range.getFirst()[1]);
      long width = 60;
      long cursor = newest ? max : min;
      while (out.size() < n && (newest ? cursor >= min : cursor <= max)) {
        long lo = newest ? cursor - width + 1 : cursor, hi = newest ? cursor : cursor + width - 1;
        String w = (where.isEmpty() ? " WHERE " : where + " AND ") + "time >= toDateTime(" + Math.max(0, lo) + ") AND time <= toDateTime(" + hi + ")";
        read("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows" + w + order, true, r -> {
          Flow f = r.flow();
          if (matcher.test(f)) out.add(f);
          return out.size() < n;
        });
        cursor = newest ? lo - 1 : hi + 1;
        width = Math.min(width * 4, 86_400L * 7);
      }
    } else {
      // everything that matches, oldest first: streamed to the sink as ClickHouse sends it
      read("SELECT " + FLOW_READ_COLUMNS + " FROM {db}.flows" + where + " ORDER BY time, nanos", true, r -> {
        Flow f = r.flow();
        if (matcher == null || matcher.test(f)) sink.accept(f);
        return true;
      });
      return;
    }
    if (newest) Collections.reverse(out);
    out.forEach(sink);
  }

  private interface RowSink {
    boolean accept(Row r) throws IOException;
  }

  private void read(String query, boolean withFlow, RowSink sink) throws StoreException {
    try (QueryResponse r = client.query(sql(query) + " FORMAT RowBinary", new QuerySettings().setFormat(ClickHouseFormat.RowBinary)).get(120, TimeUnit.SECONDS)) {
      InputStream is = r.getInputStream();
      RowBinary.In in = new RowBinary.In(new java.io.BufferedInputStream(is, 1 << 16));
      for (int b; (b = in.firstByteOrEnd()) >= 0; ) {
        long sec = in.u32(b);
        long nanos = in.u32();
        Flow flow = withFlow ? readFlow(in, sec, nanos) : null;
        if (!sink.accept(new Row(sec, nanos, flow))) break;
      }
      healthy = true;
    } catch (StoreException e) {
      throw e;
    } catch (Exception e) {
      errors.incrementAndGet();
      healthy = false;
      throw new StoreException("ClickHouse: " + rootMessage(e), e);
    }
  }

  /** Rebuilds a flow from the rest of a {@link #FLOW_READ_COLUMNS} row (time and nanos already read). */
  private Flow readFlow(RowBinary.In in, long sec, long nanos) throws IOException {
    int verdict = in.u8(), dropReason = in.u16(), direction = in.u8();
    String srcNamespace = in.str(), srcPod = in.str();
    long srcIdentity = in.u32(), srcLabels = in.u64();
    String dstNamespace = in.str(), dstPod = in.str();
    long dstIdentity = in.u32(), dstLabels = in.u64();
    String srcIp = in.str(), dstIp = in.str(), node = in.str(), uuid = in.str();
    String[] policies = new String[(int) in.varint()];
    for (int i = 0; i < policies.length; i++) policies[i] = in.str();
    byte[] blob = in.bytes(); // rows from before migration 4 hold everything here
    Flow.Builder b;
    try {
      b = Flow.newBuilder().mergeFrom(blob);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      // stored from bytes that a parser refuses deeper down (a string that is not UTF-8): what the columns hold
      b = Flow.newBuilder().setIP(dev.sieve.api.flow.IP.getDefaultInstance())
          .setSource(dev.sieve.api.flow.Endpoint.getDefaultInstance()).setDestination(dev.sieve.api.flow.Endpoint.getDefaultInstance());
    }
    if (sec != 0 || nanos != 0) b.setTime(Timestamps.timestamp(sec * 1_000_000_000L + nanos));
    if (policies.length > 0) FlowBlob.fillPolicies(b, policies);
    b.setVerdictValue(verdict).setDropReasonDescValue(dropReason).setTrafficDirectionValue(direction).setNodeName(node).setUuid(uuid);
    if (b.hasIP()) b.getIPBuilder().setSource(srcIp).setDestination(dstIp);
    if (b.hasSource()) {
      b.getSourceBuilder().setNamespace(srcNamespace).setPodName(srcPod).setIdentity((int) srcIdentity);
      if (srcLabels != 0) b.getSourceBuilder().addAllLabels(labelSet(srcLabels));
    }
    if (b.hasDestination()) {
      b.getDestinationBuilder().setNamespace(dstNamespace).setPodName(dstPod).setIdentity((int) dstIdentity);
      if (dstLabels != 0) b.getDestinationBuilder().addAllLabels(labelSet(dstLabels));
    }
    return b.build();
  }

  /** The labels of a set id; unknown ids reload the dictionary (small: one row per distinct set), at most every 100 ms. */
  private List<String> labelSet(long id) throws IOException {
    List<String> l = labelSets.get(id);
    if (l != null) return l;
    synchronized (labelSets) {
      l = labelSets.get(id);
      if (l == null && System.nanoTime() - labelSetsLoadedAt > 100_000_000L) {
        labelSetsLoadedAt = System.nanoTime();
        if (labelSets.size() > LABEL_SETS_MAX) labelSets.clear();
        try (QueryResponse r = client.query(sql("SELECT id, labels FROM {db}.label_sets FORMAT RowBinary"),
            new QuerySettings().setFormat(ClickHouseFormat.RowBinary)).get(120, TimeUnit.SECONDS)) {
          RowBinary.In rin = new RowBinary.In(new java.io.BufferedInputStream(r.getInputStream(), 1 << 16));
          for (int first; (first = rin.firstByteOrEnd()) >= 0; ) {
            long setId = rin.u64(first);
            int count = (int) rin.varint();
            List<String> labels = new ArrayList<>(count);
            for (int i = 0; i < count; i++) labels.add(rin.str());
            labelSets.put(setId, List.copyOf(labels));
          }
        } catch (IOException e) {
          throw e;
        } catch (Exception e) {
          throw new IOException("reading label sets: " + rootMessage(e), e);
        }
        l = labelSets.get(id);
      }
    }
    return l == null ? List.of() : l; // a set lost with its table: the flow reads back without labels
  }

  @Override
  public long size() throws StoreException {
    return Long.parseLong(rows(sql("SELECT count() FROM {db}.flows")).getFirst()[0]);
  }

  private static String range(String col, Instant since, Instant until) {
    List<String> c = new ArrayList<>();
    if (since != null) c.add(col + " >= toDateTime(" + since.getEpochSecond() + ")");
    if (until != null) c.add(col + " <= toDateTime(" + until.getEpochSecond() + ")");
    return c.isEmpty() ? "1 = 1" : String.join(" AND ", c);
  }

  private static String nsCond(String namespace) {
    if (namespace == null || namespace.isEmpty()) return "";
    return " AND (src_namespace = " + Sql.str(namespace) + " OR dst_namespace = " + Sql.str(namespace) + ")";
  }

  @Override
  public List<Aggregates.Bucket> counts(Instant since, Instant until, Duration bucket, String namespace) throws StoreException {
    long step = Math.max(60, bucket.toSeconds());
    TreeMap<Long, Map<String, Long>> by = new TreeMap<>();
    for (String[] r : rows(sql("SELECT intDiv(toUInt32(minute), " + step + ") * " + step + " AS b, verdict, sum(flows) FROM {db}.flow_minutes WHERE "
        + range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + nsCond(namespace) + " GROUP BY b, verdict ORDER BY b")))
      by.computeIfAbsent(Long.parseLong(r[0]), k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[1])), Long.parseLong(r[2]), Long::sum);
    List<Aggregates.Bucket> out = new ArrayList<>();
    by.forEach((b, m) -> out.add(new Aggregates.Bucket(b, m.values().stream().mapToLong(Long::longValue).sum(), m.getOrDefault("DROPPED", 0L), m)));
    return out;
  }

  @Override
  public List<Aggregates.Edge> serviceMap(Instant since, Instant until, String namespace) throws StoreException {
    Map<List<String>, Map<String, Long>> by = new LinkedHashMap<>();
    for (String[] r : rows(sql("SELECT src_namespace, src_workload, dst_namespace, dst_workload, verdict, sum(flows) AS n FROM {db}.flow_minutes WHERE "
        + range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + nsCond(namespace)
        + " GROUP BY src_namespace, src_workload, dst_namespace, dst_workload, verdict")))
      by.computeIfAbsent(List.of(r[0], r[1], r[2], r[3]), k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[4])), Long.parseLong(r[5]), Long::sum);
    List<Aggregates.Edge> out = new ArrayList<>();
    by.forEach((k, m) -> out.add(new Aggregates.Edge(k.get(0), k.get(1), k.get(2), k.get(3), m.values().stream().mapToLong(Long::longValue).sum(), m)));
    out.sort((a, b) -> Long.compare(b.flows(), a.flows()));
    return out;
  }

  @Override
  public List<Aggregates.PolicyUse> policies(Instant since, Instant until) throws StoreException {
    Map<String, Map<String, Long>> by = new TreeMap<>();
    for (String[] r : rows(sql("SELECT policy, verdict, sum(flows) FROM {db}.policy_minutes WHERE "
        + range("minute", since == null ? null : since.truncatedTo(ChronoUnit.MINUTES), until) + " GROUP BY policy, verdict")))
      by.computeIfAbsent(r[0], k -> new TreeMap<>()).merge(Aggregates.verdictName(Integer.parseInt(r[1])), Long.parseLong(r[2]), Long::sum);
    List<Aggregates.PolicyUse> out = new ArrayList<>();
    by.forEach((k, m) -> out.add(Aggregates.PolicyUse.parse(k, m.values().stream().mapToLong(Long::longValue).sum(), m)));
    return out;
  }

  /** Drops every day partition older than the retention (whole days, UTC) from every partitioned table. */
  @Override
  public List<String> enforceRetention(Instant now) throws StoreException {
    int cutoff = Integer.parseInt(LocalDate.ofInstant(now, ZoneOffset.UTC).minusDays(cfg.retentionDays() - 1L).format(YYYYMMDD));
    List<String> dropped = new ArrayList<>();
    String tables = Sql.strList(Schema.PARTITIONED_TABLES);
    for (String[] r : rows("SELECT DISTINCT table, partition FROM system.parts WHERE database = " + Sql.str(cfg.database())
        + " AND table IN " + tables + " AND active ORDER BY table, partition")) {
      String table = r[0], partition = r[1];
      if (!partition.matches("\\d{8}")) continue;
      if (Integer.parseInt(partition) < cutoff) {
        exec(sql("ALTER TABLE {db}." + Sql.ident(table) + " DROP PARTITION " + Integer.parseInt(partition)));
        dropped.add(table + "/" + partition);
      }
    }
    return dropped;
  }

  @Override
  public void close() {
    closed = true;
    try {
      for (Writer w : writers) w.thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    client.close();
  }

}
