package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A map of a {@link BpfObject}: {@code struct bpf_map *} before load, a map fd after.
 * Element operations take caller-owned segments of {@link #keySize()} / {@link #valueSize()}
 * bytes (for per-CPU maps the value is {@code round_up(valueSize, 8) * possible CPUs}).
 */
public final class BpfMap {
    private final String name;
    private final MemorySegment map;
    private final BpfObject owner;

    BpfMap(String name, MemorySegment map, BpfObject owner) {
        this.name = name;
        this.map = map;
        this.owner = owner;
    }

    public String name() {
        return name;
    }

    /** Pin path to reuse or create at load time (bpf_map__set_pin_path). */
    public void setPinPath(String path) {
        check("bpf_map__set_pin_path", name + ", " + path, call2(LibBpf.MAP_SET_PIN_PATH, owner.allocateString(path)));
    }

    public void pin(String path) {
        check("bpf_map__pin", name + ", " + path, call2(LibBpf.MAP_PIN, owner.allocateString(path)));
    }

    /** Removes the pin at {@code path}, or the configured pin path when null. */
    public void unpin(String path) {
        MemorySegment p = path == null ? MemorySegment.NULL : owner.allocateString(path);
        check("bpf_map__unpin", name + (path == null ? "" : ", " + path), call2(LibBpf.MAP_UNPIN, p));
    }

    /** Makes the map use an existing map fd instead of creating one (bpf_map__reuse_fd). */
    public void reuseFd(int fd) {
        try {
            check("bpf_map__reuse_fd", name, (int) LibBpf.MAP_REUSE_FD.invokeExact(map, fd));
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets max_entries before load (for the ring buffer: its size in bytes, a power of two). */
    public void setMaxEntries(int maxEntries) {
        try {
            check("bpf_map__set_max_entries", name + ", " + maxEntries, (int) LibBpf.MAP_SET_MAX_ENTRIES.invokeExact(map, maxEntries));
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int fd() {
        try {
            int fd = (int) LibBpf.MAP_FD.invokeExact(map);
            if (fd < 0) {
                throw BpfException.of("bpf_map__fd", name + " (object not loaded?)", -fd);
            }
            return fd;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int keySize() {
        try {
            return (int) LibBpf.MAP_KEY_SIZE.invokeExact(map);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int valueSize() {
        try {
            return (int) LibBpf.MAP_VALUE_SIZE.invokeExact(map);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int maxEntries() {
        try {
            return (int) LibBpf.MAP_MAX_ENTRIES.invokeExact(map);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** bpf_map_update_elem; flags BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
    public void update(MemorySegment key, MemorySegment value, long flags) {
        int rc;
        try {
            rc = (int) LibBpf.MAP_UPDATE.invokeExact(fd(), key, value, flags);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        check("bpf_map_update_elem", name, rc);
    }

    /** bpf_map_lookup_elem into {@code value}; false when the key is absent. */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        return lookup(fd(), name, key, value);
    }

    /** bpf_map_lookup_elem on a map fd; false when the key is absent. */
    static boolean lookup(int fd, String what, MemorySegment key, MemorySegment value) {
        int rc;
        try {
            rc = (int) LibBpf.MAP_LOOKUP.invokeExact(fd, key, value);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc == -LibBpf.ENOENT) {
            return false;
        }
        check("bpf_map_lookup_elem", what, rc);
        return true;
    }

    /** bpf_map_delete_elem; false when the key was absent. */
    public boolean delete(MemorySegment key) {
        int rc;
        try {
            rc = (int) LibBpf.MAP_DELETE.invokeExact(fd(), key);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc == -LibBpf.ENOENT) {
            return false;
        }
        check("bpf_map_delete_elem", name, rc);
        return true;
    }

    /** bpf_map_get_next_key: {@code key} NULL for the first key; false at the end. */
    public boolean nextKey(MemorySegment key, MemorySegment next) {
        return nextKey(fd(), name, key, next);
    }

    /** bpf_map_get_next_key on a map fd. */
    static boolean nextKey(int fd, String what, MemorySegment key, MemorySegment next) {
        int rc;
        try {
            rc = (int) LibBpf.MAP_NEXT_KEY.invokeExact(fd, key, next);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc == -LibBpf.ENOENT) {
            return false;
        }
        check("bpf_map_get_next_key", what, rc);
        return true;
    }

    /** Visits every key (copied into a fresh segment of {@code arena}). */
    public void forEachKey(Arena arena, java.util.function.Consumer<MemorySegment> visitor) {
        MemorySegment cur = arena.allocate(keySize(), 8);
        MemorySegment next = arena.allocate(keySize(), 8);
        MemorySegment prev = MemorySegment.NULL;
        while (nextKey(prev, next)) {
            MemorySegment copy = arena.allocate(keySize(), 8);
            copy.copyFrom(next);
            visitor.accept(copy);
            cur.copyFrom(next);
            prev = cur;
        }
    }

    private int call2(java.lang.invoke.MethodHandle h, MemorySegment arg) {
        try {
            return (int) h.invokeExact(map, arg);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void check(String function, String what, int rc) {
        if (rc < 0) {
            throw BpfException.of(function, what, -rc);
        }
    }

    @Override
    public String toString() {
        return "BpfMap[" + name + "]";
    }
}
