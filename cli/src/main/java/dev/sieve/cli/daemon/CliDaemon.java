package dev.sieve.cli.daemon;

import dev.sieve.cli.Invocation;
import dev.sieve.cli.Main;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The warm JVM behind the native {@code sieve} client: runs each client's command line on its own thread with its
 * own stdout/stderr (frames back to the client), environment and working directory ({@link Invocation}), so JIT
 * and loaded classes outlive a run. Serves only its own user (SO_PEERCRED, in a folder only that user may enter:
 * {@link SocketDir}); one daemon per folder (a file lock); a client of another build makes it leave; idle for
 * {@code idleMillis} it exits. A client that hangs up cancels its run (the thread is interrupted: a --follow's
 * gRPC call is cancelled).
 */
public final class CliDaemon {

    private final Path dir;
    private final String buildId;
    private final long idleMillis;
    private final long started = System.currentTimeMillis();
    private final AtomicInteger active = new AtomicInteger();
    private final AtomicLong lastActivity = new AtomicLong(System.nanoTime());
    private final AtomicLong served = new AtomicLong();
    private final String owner;
    private volatile boolean leaving;
    private ServerSocketChannel server;
    private FileChannel lockFile;
    private FileLock lock;

    public CliDaemon(Path dir, String buildId, long idleMillis) throws IOException {
        this.dir = SocketDir.checked(dir);
        this.buildId = buildId;
        this.idleMillis = idleMillis;
        this.owner = Files.getOwner(this.dir).getName();
    }

    /**
     * Takes the folder's lock (waiting up to {@code lockWaitMillis} for a leaving daemon to let go) and serves
     * until stopped, replaced or idle. False when another daemon holds the folder.
     */
    public boolean serve(long lockWaitMillis) throws IOException, InterruptedException {
        lockFile = FileChannel.open(dir.resolve(SocketDir.LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        long deadline = System.nanoTime() + lockWaitMillis * 1_000_000;
        while ((lock = lockFile.tryLock()) == null) {
            if (System.nanoTime() > deadline) {
                lockFile.close();
                return false;
            }
            Thread.sleep(50);
        }
        Path socket = dir.resolve(SocketDir.SOCKET);
        Files.deleteIfExists(socket); // a crashed daemon's: the lock says nobody serves it
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket), 64);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        Thread idle = Thread.ofPlatform().daemon().name("sieve-daemon-idle").start(this::exitWhenIdle);
        try {
            while (!leaving) {
                SocketChannel ch;
                try {
                    ch = server.accept();
                } catch (IOException closed) {
                    break;
                }
                active.incrementAndGet();
                lastActivity.set(System.nanoTime());
                Thread.ofPlatform().name("sieve-run-" + served.incrementAndGet()).start(() -> {
                    try {
                        handle(ch);
                    } finally {
                        lastActivity.set(System.nanoTime());
                        active.decrementAndGet();
                        synchronized (this) {
                            notifyAll();
                        }
                    }
                });
            }
        } finally {
            leave();
            idle.interrupt();
            synchronized (this) { // runs under way finish: another terminal's --follow is not cut by a replacement
                while (active.get() > 0) wait(1000);
            }
        }
        return true;
    }

    /** Stops accepting and gives the folder up (socket, lock) at once, so that a successor can start meanwhile. */
    private synchronized void leave() {
        leaving = true;
        try {
            if (server != null && server.isOpen()) {
                server.close();
                Files.deleteIfExists(dir.resolve(SocketDir.SOCKET));
            }
            if (lock != null && lock.isValid()) lock.release();
            if (lockFile != null) lockFile.close();
        } catch (IOException e) {
            // leaving anyway
        }
    }

    private void exitWhenIdle() {
        try {
            while (!leaving) {
                Thread.sleep(Math.min(1000, Math.max(10, idleMillis / 4)));
                if (active.get() == 0 && System.nanoTime() - lastActivity.get() > idleMillis * 1_000_000) {
                    leave();
                }
            }
        } catch (InterruptedException e) {
            // the daemon is leaving
        }
    }

    private void handle(SocketChannel ch) {
        try (ch) {
            String peer = ch.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
            if (!peer.equals(owner)) return; // only the folder's user: refused without a word
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            Frames.Request req = Frames.readRequest(in);
            FrameWriter frames = new FrameWriter(ch);
            String[] argv = req.argv();
            if (argv.length >= 2 && argv[0].equals("daemon")) {
                daemonCommand(argv[1], frames);
                return;
            }
            if (!req.buildId().equals(buildId)) { // a client of another build: it runs its command itself and starts a successor
                leave();
                frames.frame(Frames.OTHER_BUILD, new byte[0], 0, 0);
                return;
            }
            Map<String, String> env = new HashMap<>();
            for (String e : req.env()) {
                int eq = e.indexOf('=');
                if (eq > 0) env.put(e.substring(0, eq), e.substring(eq + 1));
            }
            Invocation inv = new Invocation(Map.copyOf(env), Path.of(req.cwd()), (req.flags() & Frames.STDOUT_TERMINAL) != 0);
            Thread run = Thread.currentThread();
            // the client sends nothing more: its hang-up (Ctrl-C, a closed pipe) is read here and cancels the run
            Thread hangUp = Thread.ofPlatform().daemon().name(run.getName() + "-hangup").start(() -> {
                try {
                    while (in.read() >= 0) {
                        // nothing is expected
                    }
                } catch (IOException e) {
                    // gone
                }
                if (!frames.done) {
                    frames.cancelled = true;
                    run.interrupt();
                }
            });
            PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(frames.stream(Frames.OUT), StandardCharsets.UTF_8), 1 << 16));
            PrintWriter err = new PrintWriter(new OutputStreamWriter(frames.stream(Frames.ERR), StandardCharsets.UTF_8), true);
            int code;
            try {
                code = ScopedValue.where(Invocation.CURRENT, inv).call(() -> Main.run(argv, out, err));
            } catch (Throwable t) {
                err.println("sieve: " + t);
                code = 1;
            }
            out.flush();
            err.flush();
            frames.done = true; // the hang-up reader ends when the channel closes (interrupting it would close the channel)
            Thread.interrupted(); // a hang-up that came as the run ended
            if (!frames.cancelled) frames.exit(code);
        } catch (IOException e) {
            // the client went away
        }
    }

    private void daemonCommand(String what, FrameWriter frames) throws IOException {
        switch (what) {
            case "status" -> {
                long up = (System.currentTimeMillis() - started) / 1000;
                frames.text(Frames.OUT, "sieve CLI daemon: pid " + ProcessHandle.current().pid() + ", build " + buildId + ", socket "
                        + dir.resolve(SocketDir.SOCKET) + ", up " + up + " s, " + (served.get() - 1) + " runs served, "
                        + (active.get() - 1) + " running, exits after " + idleMillis / 1000 + " s idle\n");
                frames.exit(0);
            }
            case "stop" -> {
                leave();
                frames.text(Frames.OUT, "sieve CLI daemon: pid " + ProcessHandle.current().pid() + " stopped\n");
                frames.exit(0);
            }
            default -> {
                frames.text(Frames.ERR, "sieve: daemon " + what + ": a CLI daemon already serves " + dir + "\n");
                frames.exit(2);
            }
        }
    }

    /** Frames to one client; stdout and stderr writes of a run may come from different threads. */
    static final class FrameWriter {
        private final SocketChannel ch;
        volatile boolean done, cancelled;

        FrameWriter(SocketChannel ch) {
            this.ch = ch;
        }

        synchronized void frame(byte type, byte[] b, int off, int len) throws IOException {
            if (cancelled) throw new IOException("the client went away");
            ByteBuffer head = ByteBuffer.allocate(5).put(type).putInt(len).flip();
            ByteBuffer body = ByteBuffer.wrap(b, off, len);
            while (head.hasRemaining() || body.hasRemaining()) ch.write(new ByteBuffer[] {head, body});
        }

        void text(byte type, String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            frame(type, b, 0, b.length);
        }

        void exit(int code) throws IOException {
            frame(Frames.EXIT, ByteBuffer.allocate(4).putInt(code).array(), 0, 4);
        }

        OutputStream stream(byte type) {
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (len > 0) frame(type, b, off, len);
                }
            };
        }
    }
}
