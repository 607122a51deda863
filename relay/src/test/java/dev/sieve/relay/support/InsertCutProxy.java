package dev.sieve.relay.support;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

/**
 * A TCP proxy in front of ClickHouse's HTTP port that cuts one RowBinary INSERT short, as a relay
 * dying mid-insert does: once {@link #arm armed}, the next {@code INSERT INTO <table> (...) FORMAT
 * RowBinary} with a Content-Length is forwarded only up to a row boundary the test picks, then both
 * connections are closed. ClickHouse 18.16 takes the early end of the body as the end of the data
 * and commits the complete rows it got. Every other request passes unchanged (a request without a
 * Content-Length switches its connection to a plain byte pump).
 *
 * <p>Rows are walked with the column types of the target table ({@code system.columns}), so the
 * cut falls exactly between two rows. The test sees each row's {@code flow_seq} in body order and
 * returns how many rows to forward.
 */
public final class InsertCutProxy implements AutoCloseable {
    /** What the proxy does after its cut. */
    public enum After {
        /** Passes everything again (ClickHouse is reachable; the relay retries). */
        PASS,
        /** Closes every open connection and each new one at once (the relay that sent the insert is dead). */
        REFUSE
    }

    private final int targetPort;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final CountDownLatch cut = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicReference<String> table = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile Map<String, String> types;
    private volatile ToIntFunction<long[]> keep;
    private volatile After after;
    private volatile boolean refusing, closed;
    private volatile int rowsSent = -1, rowsInBody = -1;

    public InsertCutProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofPlatform().daemon().name("insert-cut-proxy").start(this::accept);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /**
     * Cuts the next insert into {@code database.table} whose columns have the given types: {@code keep}
     * gets the body's flow_seq values in body order and returns how many rows go through.
     */
    public void arm(String database, String table, Map<String, String> columnTypes, ToIntFunction<long[]> keep, After after) {
        this.types = Map.copyOf(columnTypes);
        this.after = after;
        this.keep = keep;
        this.table.set("`" + database + "`.`" + table + "`"); // as the relay quotes identifiers
    }

    /** Waits for the cut; returns {rows forwarded, rows in the body}. */
    public int[] awaitCut(long timeout, TimeUnit unit) throws InterruptedException {
        if (!cut.await(timeout, unit)) throw new AssertionError("no armed insert was cut within " + timeout + " " + unit);
        return new int[] {rowsSent, rowsInBody};
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (refusing) {
                    client.close();
                    continue;
                }
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                open.add(client);
                open.add(upstream);
                Thread.ofPlatform().daemon().start(() -> pump(upstream, client));
                Thread.ofPlatform().daemon().start(() -> requests(client, upstream));
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    private void pump(Socket from, Socket to) {
        try (from; to) {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException e) {
            // either side closed
        } finally {
            open.remove(from);
            open.remove(to);
        }
    }

    /** Client to server, one HTTP request at a time. */
    private void requests(Socket client, Socket upstream) {
        try (client; upstream) {
            InputStream in = new java.io.BufferedInputStream(client.getInputStream(), 1 << 16);
            OutputStream out = upstream.getOutputStream();
            while (true) {
                byte[] head = readHead(in);
                if (head == null) return;
                String h = new String(head, StandardCharsets.ISO_8859_1);
                long length = contentLength(h);
                if (length < 0) {
                    out.write(head);
                    in.transferTo(out);
                    return;
                }
                String t = table.get();
                String query = URLDecoder.decode(h.substring(0, h.indexOf('\r')), StandardCharsets.UTF_8);
                if (t == null || !query.contains("INSERT INTO " + t + " (") || !table.compareAndSet(t, null)) { // one cut
                    out.write(head);
                    copy(in, out, length);
                    out.flush();
                    continue;
                }
                byte[] body = in.readNBytes((int) length);
                if (body.length != length) throw new EOFException();
                List<String> columns = List.of(query.substring(query.indexOf('(') + 1, query.indexOf(')')).split(",\\s*"));
                List<Integer> ends = new ArrayList<>();
                long[] flowSeqs = rows(body, columns, ends);
                int n = keep.applyAsInt(flowSeqs);
                out.write(head);
                out.write(body, 0, n == 0 ? 0 : ends.get(n - 1));
                out.flush();
                rowsSent = n;
                rowsInBody = flowSeqs.length;
                if (after == After.REFUSE) refusing = true;
                upstream.close();
                client.close();
                if (refusing) closeAll();
                cut.countDown();
                return;
            }
        } catch (IOException e) {
            // either side closed
        } finally {
            open.remove(client);
            open.remove(upstream);
        }
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) throw new EOFException();
            out.write(buf, 0, r);
            n -= r;
        }
    }

    private void closeAll() {
        for (Socket s : List.copyOf(open)) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    /** The request line and headers through the blank line, or null at the end of the stream. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        for (int c; (c = in.read()) >= 0; ) {
            b.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) return b.toByteArray();
        }
        if (b.size() == 0) return null;
        throw new EOFException("request head cut short");
    }

    private static long contentLength(String head) {
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length"))
                return Long.parseLong(line.substring(colon + 1).trim());
        }
        return -1;
    }

    /** Walks the RowBinary rows of a body; returns each row's flow_seq and adds where each row ends. */
    private long[] rows(byte[] body, List<String> columns, List<Integer> ends) {
        int[] at = {0};
        List<Long> seqs = new ArrayList<>();
        while (at[0] < body.length) {
            long seq = 0;
            for (String c : columns) {
                String type = types.get(c);
                if (type == null) throw new IllegalStateException("no type for column " + c);
                long v = skip(body, at, type);
                if (c.equals("flow_seq")) seq = v;
            }
            seqs.add(seq);
            ends.add(at[0]);
        }
        return seqs.stream().mapToLong(Long::longValue).toArray();
    }

    /** Skips one value; returns it for unsigned integers. */
    private static long skip(byte[] b, int[] at, String type) {
        if (type.startsWith("Array(")) {
            long n = varint(b, at);
            for (long i = 0; i < n; i++) skip(b, at, type.substring(6, type.length() - 1));
            return n;
        }
        int width = switch (type) {
            case "UInt8", "Int8" -> 1;
            case "UInt16", "Int16" -> 2;
            case "UInt32", "Int32" -> 4;
            case "UInt64", "Int64" -> 8;
            case "String" -> -1;
            default -> type.startsWith("DateTime") ? 4 : 0;
        };
        if (width == 0) throw new IllegalStateException("type " + type + " not handled");
        if (width < 0) {
            int length = (int) varint(b, at);
            at[0] += length;
            return 0;
        }
        long v = 0;
        for (int i = 0; i < width; i++) v |= (b[at[0] + i] & 0xFFL) << (8 * i);
        at[0] += width;
        return v;
    }

    private static long varint(byte[] b, int[] at) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b[at[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) return v;
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        closeAll();
    }
}
