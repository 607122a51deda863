package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A map found pinned in bpffs, opened by path (bpf_obj_get) rather than through an object: how
 * the agent reads a map an older version of itself left behind. Close it to release the fd.
 */
public final class PinnedMap implements AutoCloseable {
    private final Path path;
    private final int fd;

    private PinnedMap(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static PinnedMap open(Path path) {
        try (Arena a = Arena.ofConfined()) {
            int fd = (int) LibBpf.OBJ_GET.invokeExact(a.allocateFrom(path.toString()));
            if (fd < 0) {
                throw BpfException.of("bpf_obj_get", path.toString(), -fd);
            }
            return new PinnedMap(path, fd);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int fd() {
        return fd;
    }

    /** Entry visitor; the segments are reused between calls and are the visitor's to change. */
    public interface EntryVisitor {
        void visit(MemorySegment key, MemorySegment value);
    }

    /** Visits every entry; keys and values of the given sizes (entries deleted meanwhile are skipped). */
    public void forEach(int keySize, int valueSize, EntryVisitor visitor) {
        String what = path.toString();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cur = a.allocate(keySize, 8);
            MemorySegment next = a.allocate(keySize, 8);
            MemorySegment value = a.allocate(valueSize, 8);
            MemorySegment visited = a.allocate(keySize, 8); // the iteration's own key stays untouched
            MemorySegment prev = MemorySegment.NULL;
            while (BpfMap.nextKey(fd, what, prev, next)) {
                cur.copyFrom(next);
                prev = cur;
                if (BpfMap.lookup(fd, what, cur, value)) {
                    visited.copyFrom(cur);
                    visitor.visit(visited, value);
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) LibBpf.CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
