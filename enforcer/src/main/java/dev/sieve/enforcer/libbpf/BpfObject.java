package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** A loaded (or about to be loaded) BPF ELF object: {@code struct bpf_object *}. */
public final class BpfObject implements AutoCloseable {
    private final String name;
    private final Arena arena; // holds the ELF buffer (libbpf keeps pointing at it) and C strings
    private MemorySegment obj;
    private boolean loaded;
    private final Map<String, BpfMap> maps = new HashMap<>();

    private BpfObject(String name, Arena arena, MemorySegment obj) {
        this.name = name;
        this.arena = arena;
        this.obj = obj;
    }

    /** Opens an object from ELF bytes (libbpf keeps a pointer to the buffer until close). */
    public static BpfObject open(String name, byte[] elfBytes) {
        LibBpf.ensureAvailable();
        Arena arena = Arena.ofShared();
        MemorySegment elf = arena.allocate(elfBytes.length, 8);
        elf.copyFrom(MemorySegment.ofArray(elfBytes));
        MemorySegment obj;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment err = LibBpf.errnoSegment(tmp);
            LibBpf.clearLog();
            obj = (MemorySegment) LibBpf.OBJECT_OPEN_MEM.invokeExact(err, elf, (long) elfBytes.length, MemorySegment.NULL);
            if (obj.equals(MemorySegment.NULL)) {
                int errno = LibBpf.errno(err);
                arena.close();
                throw BpfException.of("bpf_object__open_mem", name, errno);
            }
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException(t);
        }
        return new BpfObject(name, arena, obj);
    }

    public String name() {
        return name;
    }

    /** Whether the object has a map called {@code mapName} (an earlier version's object may lack a newer map). */
    public synchronized boolean hasMap(String mapName) {
        checkOpen();
        if (maps.containsKey(mapName)) {
            return true;
        }
        try {
            return !((MemorySegment) LibBpf.OBJECT_FIND_MAP.invokeExact(obj, arena.allocateFrom(mapName))).equals(MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The map called {@code mapName} in the object (the C variable name). */
    public synchronized BpfMap map(String mapName) {
        checkOpen();
        return maps.computeIfAbsent(mapName, n -> {
            MemorySegment m;
            try {
                m = (MemorySegment) LibBpf.OBJECT_FIND_MAP.invokeExact(obj, arena.allocateFrom(n));
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            if (m.equals(MemorySegment.NULL)) {
                throw new BpfException("bpf_object__find_map_by_name(" + n + "): no such map in " + name, LibBpf.ENOENT);
            }
            return new BpfMap(n, m, this);
        });
    }

    /** File descriptor of program {@code progName} (after {@link #load()}). */
    public int programFd(String progName) {
        checkOpen();
        try {
            MemorySegment p = (MemorySegment) LibBpf.OBJECT_FIND_PROGRAM.invokeExact(obj, arena.allocateFrom(progName));
            if (p.equals(MemorySegment.NULL)) {
                throw new BpfException("bpf_object__find_program_by_name(" + progName + "): no such program in " + name, LibBpf.ENOENT);
            }
            int fd = (int) LibBpf.PROGRAM_FD.invokeExact(p);
            if (fd < 0) {
                throw BpfException.of("bpf_program__fd", progName, -fd);
            }
            return fd;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Creates (or reuses pinned) maps, loads and verifies the programs. */
    public synchronized void load() {
        checkOpen();
        if (loaded) {
            return;
        }
        LibBpf.clearLog();
        int rc;
        try {
            rc = (int) LibBpf.OBJECT_LOAD.invokeExact(obj);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc < 0) {
            throw BpfException.of("bpf_object__load", name, -rc);
        }
        loaded = true;
    }

    public boolean isLoaded() {
        return loaded;
    }

    MemorySegment allocateString(String s) {
        return arena.allocateFrom(s);
    }

    private void checkOpen() {
        if (obj == null) {
            throw new IllegalStateException("bpf object " + name + " is closed");
        }
    }

    /** Closes the object: unpinned maps and programs without other users go away. */
    @Override
    public synchronized void close() {
        if (obj == null) {
            return;
        }
        try {
            LibBpf.OBJECT_CLOSE.invokeExact(obj);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            obj = null;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "BpfObject[" + name + (loaded ? ", loaded" : "") + "]";
    }
}
