package dev.sieve.agent.source;

import dev.sieve.policy.manifest.ManifestParser;
import dev.sieve.policy.manifest.ManifestSet;
import dev.sieve.policy.manifest.ValidationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Manifest directories, watched with inotify (WatchService): a change is read after a short quiet period
 * (so an editor's write-rename-delete counts once) and delivered as a whole new set, well within a second.
 */
public final class DirectorySource implements ManifestSource {

    private static final Logger LOG = Logger.getLogger(DirectorySource.class.getName());
    /** How long the directories must be quiet before a change is read. */
    static final long SETTLE_MS = 150;

    private final List<Path> dirs;
    private final WatchService watcher;
    private Thread thread;
    private volatile boolean closed;
    private final AtomicLong watchErrors = new AtomicLong();

    public DirectorySource(List<Path> dirs) {
        this.dirs = List.copyOf(dirs);
        try {
            this.watcher = FileSystems.getDefault().newWatchService();
            for (Path d : dirs) registerTree(d);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + dirs + ": " + e.getMessage(), e);
        }
    }

    private void registerTree(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            Path parent = root.toAbsolutePath().getParent();
            if (parent != null && Files.isDirectory(parent)) register(parent); // a single file: watch its folder
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path d : s.filter(Files::isDirectory).toList()) register(d);
        }
    }

    private void register(Path d) throws IOException {
        d.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
    }

    @Override
    public ManifestSet read() throws ValidationException {
        return ManifestParser.load(dirs);
    }

    @Override
    public synchronized void start(Listener listener) {
        if (thread != null) throw new IllegalStateException("already started");
        thread = Thread.ofPlatform().name("sieve-manifest-watch").daemon().start(() -> loop(listener));
    }

    private void loop(Listener listener) {
        boolean rewatch = false;
        while (!closed) {
            try {
                WatchKey key = watcher.take();
                boolean dirAdded = drain(key);
                // settle: keep draining until the directories are quiet
                WatchKey more;
                while ((more = watcher.poll(SETTLE_MS, TimeUnit.MILLISECONDS)) != null) dirAdded |= drain(more);
                if (dirAdded || rewatch) rewatch = !watchAll();
                deliver(listener);
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return; // closing
            } catch (RuntimeException e) {
                // never let one bad round end the watch: the agent would look healthy and ignore every change
                watchErrors.incrementAndGet();
                LOG.log(Level.WARNING, "manifest watch: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Watches every directory of the trees again; false when one could not be (it vanished during the walk, as
     * Kubernetes' ConfigMap {@code ..data} swaps make happen, or the inotify watch limit was hit), so the next
     * round tries again.
     */
    private boolean watchAll() {
        boolean ok = true;
        for (Path d : dirs) {
            try {
                registerTree(d);
            } catch (IOException | UncheckedIOException e) {
                watchErrors.incrementAndGet();
                LOG.log(Level.WARNING, "manifest watch: cannot watch " + d + " (retrying on the next change): " + e.getMessage());
                ok = false;
            }
        }
        return ok;
    }

    private void deliver(Listener listener) {
        try {
            listener.onUpdate(read());
        } catch (ValidationException e) {
            listener.onInvalid(e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "applying a manifest change failed", e);
        }
    }

    @Override
    public long watchErrors() {
        return watchErrors.get();
    }

    @Override
    public boolean alive() {
        Thread t = thread;
        return t != null && t.isAlive() && !closed;
    }

    /** Consumes a key's events; true when a directory was created (it needs watching too). */
    private static boolean drain(WatchKey key) {
        boolean dirAdded = false;
        Path base = (Path) key.watchable();
        for (var ev : key.pollEvents()) {
            if (ev.kind() == StandardWatchEventKinds.ENTRY_CREATE && ev.context() instanceof Path p && Files.isDirectory(base.resolve(p))) {
                dirAdded = true;
            }
        }
        key.reset();
        return dirAdded;
    }

    @Override
    public void close() {
        closed = true;
        try {
            watcher.close();
        } catch (IOException e) {
            // nothing to do
        }
        Thread t = thread;
        if (t != null) t.interrupt();
    }
}
