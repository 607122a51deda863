package dev.sieve.relay.store.memory;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.sieve.api.flow.Flow;
import dev.sieve.relay.query.FilterPlan;
import dev.sieve.relay.query.FilterPlan.Cond;
import dev.sieve.relay.query.FlowQuery;
import dev.sieve.relay.query.FlowRow;
import dev.sieve.relay.query.Timestamps;
import dev.sieve.relay.store.Aggregates;
import dev.sieve.relay.store.FlowStore;
import dev.sieve.relay.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The embedded store: Arrow column vectors in a bounded ring of chunks. When the ring is full the
 * oldest chunk (1/16 of the capacity, at most 65,536 rows) is dropped whole, so the store holds
 * between {@code capacity - chunk} and {@code capacity} flows. Not durable: ingest marks live in
 * memory too, so after a relay restart nodes resend what they still spool.
 */
public final class MemoryFlowStore implements FlowStore {
  private final long capacity;
  private final int chunkRows;
  private final BufferAllocator allocator = new RootAllocator();
  private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
  private final StringDictionary[] dicts = new StringDictionary[Chunk.INT_COLUMNS];
  private final ConcurrentHashMap<StreamKey, Mark> marks = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private long nextChunkId;
  private long size;
  private volatile boolean closed;

  public MemoryFlowStore(long capacity) {
    if (capacity < 1) throw new IllegalArgumentException("memory capacity must be >= 1, got " + capacity);
    this.capacity = capacity;
    this.chunkRows = (int) Math.max(1, Math.min(65_536, Math.max(capacity / 16, Math.min(capacity, 1024))));
    for (int c = 0; c < dicts.length; c++) dicts[c] = new StringDictionary();
  }

  @Override
  public String kind() {
    return "memory";
  }

  @Override
  public long capacity() {
    return capacity;
  }

  @Override
  public boolean ready() {
    return !closed;
  }

  @Override
  public long size() {
    lock.readLock().lock();
    try {
      return size;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Mark mark(StreamKey key) {
    return marks.getOrDefault(key, Mark.NONE);
  }

  @Override
  public CompletableFuture<Mark> appendAsync(Batch b) {
    if (closed) return CompletableFuture.failedFuture(new StoreException("memory store is closed"));
    List<FlowRow> rows = new ArrayList<>(b.flows().size());
    for (Flow f : b.flows()) rows.add(FlowRow.of(f));
    lock.writeLock().lock();
    try {
      Mark m = mark(b.key());
      for (int i = FlowStore.alreadyStored(m, b); i < rows.size(); i++) add(rows.get(i));
      Mark nm = FlowStore.after(m, b);
      marks.put(b.key(), nm);
      return CompletableFuture.completedFuture(nm);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Appends rows directly (benchmarks, tests). */
  public void appendRows(List<FlowRow> rows) {
    lock.writeLock().lock();
    try {
      for (FlowRow r : rows) add(r);
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void add(FlowRow r) {
    Chunk c = chunks.peekLast();
    if (c == null || c.full()) {
      if ((long) chunks.size() * chunkRows >= capacity) {
        Chunk old = chunks.pollFirst();
        size -= old.size;
        old.close();
      }
      c = new Chunk(nextChunkId++, chunkRows, allocator, 256);
      chunks.addLast(c);
    }
    int i = c.size;
    c.time.set(i, r.timeNanos());
    c.verdict.set(i, r.verdict());
    c.direction.set(i, r.direction());
    c.protocol.set(i, r.protocol());
    c.dropReason.set(i, r.dropReason());
    c.ints[Chunk.SRC_NS].set(i, dicts[Chunk.SRC_NS].id(r.srcNamespace()));
    c.ints[Chunk.SRC_POD].set(i, dicts[Chunk.SRC_POD].id(r.srcPod()));
    c.ints[Chunk.DST_NS].set(i, dicts[Chunk.DST_NS].id(r.dstNamespace()));
    c.ints[Chunk.DST_POD].set(i, dicts[Chunk.DST_POD].id(r.dstPod()));
    c.ints[Chunk.SRC_WL].set(i, dicts[Chunk.SRC_WL].id(r.srcWorkload()));
    c.ints[Chunk.DST_WL].set(i, dicts[Chunk.DST_WL].id(r.dstWorkload()));
    c.ints[Chunk.SRC_LABELS].set(i, dicts[Chunk.SRC_LABELS].id(r.srcLabels()));
    c.ints[Chunk.DST_LABELS].set(i, dicts[Chunk.DST_LABELS].id(r.dstLabels()));
    c.ints[Chunk.SRC_IP].set(i, dicts[Chunk.SRC_IP].id(r.srcIp()));
    c.ints[Chunk.DST_IP].set(i, dicts[Chunk.DST_IP].id(r.dstIp()));
    c.ints[Chunk.NODE].set(i, dicts[Chunk.NODE].id(r.nodeName()));
    c.ints[Chunk.POLICIES].set(i, dicts[Chunk.POLICIES].id(String.join("\n", r.policies())));
    c.ints[Chunk.SRC_PORT].set(i, r.srcPort());
    c.ints[Chunk.DST_PORT].set(i, r.dstPort());
    c.ints[Chunk.SRC_ID].set(i, (int) r.srcIdentity());
    c.ints[Chunk.DST_ID].set(i, (int) r.dstIdentity());
    c.bytes.setSafe(i, r.bytes());
    c.size = i + 1;
    c.time.setValueCount(c.size);
    c.bytes.setValueCount(c.size);
    c.minTime = Math.min(c.minTime, r.timeNanos());
    c.maxTime = Math.max(c.maxTime, r.timeNanos());
    size++;
  }

  // ------------------------------------------------------------------ queries

  /** A compiled row check over one chunk's columns. */
  private interface RowCheck {
    boolean test(Chunk c, int row);
  }

  private RowCheck compile(FilterPlan p) {
    List<RowCheck> checks = new ArrayList<>();
    for (Cond cond : p.conds()) checks.add(compile(cond));
    RowCheck[] a = checks.toArray(RowCheck[]::new);
    if (a.length == 0) return (c, r) -> true;
    if (a.length == 1) return a[0];
    return (c, r) -> {
      for (RowCheck x : a) if (!x.test(c, r)) return false;
      return true;
    };
  }

  private RowCheck compile(Cond cond) {
    return switch (cond) {
      case FilterPlan.IntIn in -> intIn(in);
      case FilterPlan.PodIn pod -> {
        int nsCol = pod.source() ? Chunk.SRC_NS : Chunk.DST_NS, podCol = pod.source() ? Chunk.SRC_POD : Chunk.DST_POD;
        int n = pod.values().size();
        boolean[][] nsOk = new boolean[n][], podOk = new boolean[n][];
        for (int k = 0; k < n; k++) {
          var v = pod.values().get(k);
          nsOk[k] = dicts[nsCol].accept(ns -> v.namespace().equals(ns));
          podOk[k] = dicts[podCol].accept(name -> name.startsWith(v.prefix()));
        }
        boolean[] emptyNs = dicts[nsCol].accept(String::isEmpty), emptyPod = dicts[podCol].accept(String::isEmpty);
        yield (c, r) -> {
          int ns = c.intCol(nsCol, r), pd = c.intCol(podCol, r);
          if (emptyNs[ns] && emptyPod[pd]) return false;
          for (int k = 0; k < n; k++) if (nsOk[k][ns] && podOk[k][pd]) return true;
          return false;
        };
      }
      case FilterPlan.IpIn ip -> {
        yield dictCheck(ip.source() ? Chunk.SRC_IP : Chunk.DST_IP, ip.matcher());
      }
      case FilterPlan.NodeIn node -> {
        yield dictCheck(Chunk.NODE, node.matcher());
      }
      case FilterPlan.LabelIn l -> {
        var m = l.matcher();
        yield dictCheck(l.source() ? Chunk.SRC_LABELS : Chunk.DST_LABELS, s -> m.test(s.isEmpty() ? List.of() : List.of(s.split(","))));
      }
    };
  }

  private RowCheck dictCheck(int col, java.util.function.Predicate<String> p) {
    boolean[] ok = dicts[col].accept(p);
    return (c, r) -> ok[c.intCol(col, r)];
  }

  private static RowCheck intIn(FilterPlan.IntIn in) {
    long[] v = in.values();
    return switch (in.col()) {
      case VERDICT -> v.length == 1 ? (c, r) -> c.verdict(r) == v[0] : (c, r) -> contains(v, c.verdict(r));
      case DROP_REASON -> (c, r) -> contains(v, c.dropReason(r));
      case DIRECTION -> (c, r) -> contains(v, c.direction(r));
      case PROTOCOL -> (c, r) -> contains(v, c.protocol(r));
      case SRC_PORT -> (c, r) -> contains(v, c.intCol(Chunk.SRC_PORT, r));
      case DST_PORT -> (c, r) -> contains(v, c.intCol(Chunk.DST_PORT, r));
      case SRC_IDENTITY -> (c, r) -> contains(v, Integer.toUnsignedLong(c.intCol(Chunk.SRC_ID, r)));
      case DST_IDENTITY -> (c, r) -> contains(v, Integer.toUnsignedLong(c.intCol(Chunk.DST_ID, r)));
    };
  }

  private static boolean contains(long[] a, long x) {
    for (long v : a) if (v == x) return true;
    return false;
  }

  private record Hit(long time, Chunk chunk, int row) {}

  @Override
  public void query(FlowQuery q, Consumer<Flow> sink) throws StoreException {
    List<Flow> out = new ArrayList<>();
    lock.readLock().lock();
    try {
      FilterPlan.QueryPlan plan = FilterPlan.QueryPlan.of(q, c -> true);
      RowCheck[] white = plan.whitelist().stream().map(this::compile).toArray(RowCheck[]::new);
      RowCheck[] black = plan.exactBlacklist().stream().map(this::compile).toArray(RowCheck[]::new);
      java.util.function.Predicate<Flow> matcher = plan.needsMatcher() ? q.matcher() : null;
      long since = q.sinceNanos(), until = q.untilNanos();
      long n = q.number();
      boolean newest = !q.first();
      // newest N: max-time wins, so the heap head is the oldest kept; first N: the reverse.
      Comparator<Hit> order = Comparator.comparingLong(Hit::time);
      PriorityQueue<Hit> heap = n > 0 ? new PriorityQueue<>(newest ? order : order.reversed()) : null;
      List<Hit> all = n > 0 ? null : new ArrayList<>();
      Iterator<Chunk> it = newest ? chunks.descendingIterator() : chunks.iterator();
      while (it.hasNext()) {
        Chunk c = it.next();
        if (c.size == 0 || c.maxTime < since || c.minTime > until) continue;
        if (heap != null && heap.size() >= n) {
          long bound = heap.peek().time();
          if (newest ? c.maxTime < bound : c.minTime > bound) continue;
        }
        boolean whole = c.minTime >= since && c.maxTime <= until;
        for (int r = 0; r < c.size; r++) {
          long t;
          if (!whole) {
            t = c.time(r);
            if (t < since || t > until) continue;
          }
          if (white.length > 0) {
            boolean any = false;
            for (RowCheck w : white) if (w.test(c, r)) { any = true; break; }
            if (!any) continue;
          }
          boolean out_ = false;
          for (RowCheck b : black) if (b.test(c, r)) { out_ = true; break; }
          if (out_) continue;
          t = c.time(r);
          if (heap != null && heap.size() >= n) {
            long bound = heap.peek().time();
            if (newest ? t <= bound : t >= bound) continue;
          }
          if (matcher != null && !matcher.test(decode(c, r))) continue;
          Hit h = new Hit(t, c, r);
          if (heap != null) {
            heap.add(h);
            if (heap.size() > n) heap.poll();
          } else {
            all.add(h);
          }
        }
      }
      List<Hit> hits = heap != null ? new ArrayList<>(heap) : all;
      hits.sort(order);
      for (Hit h : hits) out.add(decode(h.chunk(), h.row()));
    } finally {
      lock.readLock().unlock();
    }
    out.forEach(sink);
  }

  private static Flow decode(Chunk c, int row) {
    try {
      return Flow.parseFrom(c.flowBytes(row));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored flow does not parse", e);
    }
  }

  // ------------------------------------------------------------------ aggregates

  private interface RowVisitor {
    void visit(Chunk c, int row);
  }

  private void scan(Instant since, Instant until, String namespace, RowVisitor v) {
    long s = since == null ? Long.MIN_VALUE : Timestamps.nanos(since);
    long u = until == null ? Long.MAX_VALUE : Timestamps.nanos(until);
    boolean[] nsOk = namespace == null || namespace.isEmpty() ? null : dicts[Chunk.SRC_NS].accept(namespace::equals);
    boolean[] dnsOk = nsOk == null ? null : dicts[Chunk.DST_NS].accept(namespace::equals);
    lock.readLock().lock();
    try {
      for (Chunk c : chunks) {
        if (c.size == 0 || c.maxTime < s || c.minTime > u) continue;
        for (int r = 0; r < c.size; r++) {
          long t = c.time(r);
          if (t < s || t > u) continue;
          if (nsOk != null && !nsOk[c.intCol(Chunk.SRC_NS, r)] && !dnsOk[c.intCol(Chunk.DST_NS, r)]) continue;
          v.visit(c, r);
        }
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public List<Aggregates.Bucket> counts(Instant since, Instant until, Duration bucket, String namespace) {
    long step = Math.max(1, bucket.toSeconds());
    TreeMap<Long, Map<String, Long>> by = new TreeMap<>();
    scan(since, until, namespace, (c, r) -> {
      long b = Math.floorDiv(Math.floorDiv(c.time(r), 1_000_000_000L), step) * step;
      by.computeIfAbsent(b, k -> new TreeMap<>()).merge(Aggregates.verdictName(c.verdict(r)), 1L, Long::sum);
    });
    List<Aggregates.Bucket> out = new ArrayList<>();
    by.forEach((b, m) -> out.add(new Aggregates.Bucket(b, m.values().stream().mapToLong(Long::longValue).sum(), m.getOrDefault("DROPPED", 0L), m)));
    return out;
  }

  @Override
  public List<Aggregates.Edge> serviceMap(Instant since, Instant until, String namespace) {
    Map<List<Integer>, Map<String, Long>> by = new HashMap<>();
    scan(since, until, namespace, (c, r) -> by.computeIfAbsent(
            List.of(c.intCol(Chunk.SRC_NS, r), c.intCol(Chunk.SRC_WL, r), c.intCol(Chunk.DST_NS, r), c.intCol(Chunk.DST_WL, r)),
            k -> new TreeMap<>())
        .merge(Aggregates.verdictName(c.verdict(r)), 1L, Long::sum));
    List<Aggregates.Edge> out = new ArrayList<>();
    lock.readLock().lock();
    try {
      by.forEach((k, m) -> out.add(new Aggregates.Edge(dicts[Chunk.SRC_NS].value(k.get(0)), dicts[Chunk.SRC_WL].value(k.get(1)),
          dicts[Chunk.DST_NS].value(k.get(2)), dicts[Chunk.DST_WL].value(k.get(3)), m.values().stream().mapToLong(Long::longValue).sum(), m)));
    } finally {
      lock.readLock().unlock();
    }
    out.sort(Comparator.comparingLong(Aggregates.Edge::flows).reversed());
    return out;
  }

  @Override
  public List<Aggregates.PolicyUse> policies(Instant since, Instant until) {
    Map<String, Map<String, Long>> by = new TreeMap<>();
    Map<Integer, String[]> split = new HashMap<>();
    scan(since, until, null, (c, r) -> {
      int id = c.intCol(Chunk.POLICIES, r);
      String[] ps = split.computeIfAbsent(id, k -> {
        String s = dicts[Chunk.POLICIES].value(k);
        return s.isEmpty() ? new String[0] : s.split("\n");
      });
      for (String p : ps) by.computeIfAbsent(p, k -> new TreeMap<>()).merge(Aggregates.verdictName(c.verdict(r)), 1L, Long::sum);
    });
    List<Aggregates.PolicyUse> out = new ArrayList<>();
    by.forEach((k, m) -> out.add(Aggregates.PolicyUse.parse(k, m.values().stream().mapToLong(Long::longValue).sum(), m)));
    return out;
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      closed = true;
      chunks.forEach(Chunk::close);
      chunks.clear();
      size = 0;
      allocator.close();
    } finally {
      lock.writeLock().unlock();
    }
  }
}
