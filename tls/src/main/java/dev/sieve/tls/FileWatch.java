package dev.sieve.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;

/**
 * Whether a set of files changed since the last look (modification time, size and file key of each, so an atomic
 * rename over the old file counts), looked at no more often than {@link #INTERVAL_NANOS}.
 */
final class FileWatch {
    static final long INTERVAL_NANOS = 500_000_000L;

    private final List<Path> files;
    private String stamp;
    private long lastLook;

    FileWatch(List<Path> files) {
        this.files = List.copyOf(files);
        this.stamp = stamp();
        this.lastLook = System.nanoTime();
    }

    /** True once per change, when it is time to look again and a file differs. */
    synchronized boolean changed() {
        long now = System.nanoTime();
        if (now - lastLook < INTERVAL_NANOS) return false;
        lastLook = now;
        String s = stamp();
        if (Objects.equals(s, stamp)) return false;
        stamp = s;
        return true;
    }

    private String stamp() {
        StringBuilder b = new StringBuilder();
        for (Path f : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                b.append(a.lastModifiedTime().toMillis()).append('/').append(a.size()).append('/').append(a.fileKey()).append(';');
            } catch (IOException e) {
                b.append("missing;");
            }
        }
        return b.toString();
    }
}
