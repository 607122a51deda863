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
        try {
            while (!closed) {
                WatchKey key = watcher.take();
                boolean dirAdded = drain(key);
                // settle: keep draining until the directories are quiet
                WatchKey more;
                while ((more = watcher.poll(SETTLE_MS, TimeUnit.MILLISECONDS)) != null) dirAdded |= drain(more);
                if (dirAdded) for (Path d : dirs) registerTree(d);
                try {
                    listener.onUpdate(read());
                } catch (ValidationException e) {
                    listener.onInvalid(e);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "applying a manifest change failed", e);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "manifest watch stopped: " + e.getMessage(), e);
        }
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
