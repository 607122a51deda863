package dev.sieve.enforcer.libbpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;

/**
 * Hand-written FFM bindings for the parts of libbpf 1.1 (libbpf.so.1) and libc that Sieve uses.
 * Pointer-returning libbpf calls report failure as NULL + errno (captured here); int-returning
 * ones return -errno. Everything is static and thread-safe; libbpf's log lines are kept per
 * thread and attached to the next {@link BpfException} of that thread.
 */
public final class LibBpf {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup BPF;
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final Throwable LOAD_ERROR;

    /** struct bpf_tc_hook (libbpf.h): sz, ifindex, attach_point, parent; 24 bytes. */
    public static final long TC_HOOK_SIZE = 24;
    /** struct bpf_tc_opts (libbpf.h): sz, prog_fd, flags, prog_id, handle, priority; 32 bytes. */
    public static final long TC_OPTS_SIZE = 32;
    /** struct bpf_test_run_opts (bpf.h); 80 bytes. */
    public static final long TEST_RUN_OPTS_SIZE = 80;
    public static final int BPF_TC_INGRESS = 1;
    public static final int BPF_TC_EGRESS = 2;
    public static final int BPF_TC_F_REPLACE = 1;
    public static final int BPF_ANY = 0;
    public static final int BPF_NOEXIST = 1;
    public static final int ENOENT = 2;
    public static final int EEXIST = 17;

    static final MethodHandle OBJECT_OPEN_MEM;
    static final MethodHandle OBJECT_LOAD;
    static final MethodHandle OBJECT_CLOSE;
    static final MethodHandle OBJECT_FIND_MAP;
    static final MethodHandle OBJECT_FIND_PROGRAM;
    static final MethodHandle PROGRAM_FD;
    static final MethodHandle MAP_FD;
    static final MethodHandle MAP_SET_PIN_PATH;
    static final MethodHandle MAP_PIN;
    static final MethodHandle MAP_UNPIN;
    static final MethodHandle MAP_REUSE_FD;
    static final MethodHandle MAP_SET_MAX_ENTRIES;
    static final MethodHandle MAP_KEY_SIZE;
    static final MethodHandle MAP_VALUE_SIZE;
    static final MethodHandle MAP_MAX_ENTRIES;
    static final MethodHandle MAP_UPDATE;
    static final MethodHandle MAP_LOOKUP;
    static final MethodHandle MAP_DELETE;
    static final MethodHandle MAP_NEXT_KEY;
    static final MethodHandle OBJ_GET;
    static final MethodHandle TC_HOOK_CREATE;
    static final MethodHandle TC_HOOK_DESTROY;
    static final MethodHandle TC_ATTACH;
    static final MethodHandle TC_DETACH;
    static final MethodHandle TC_QUERY;
    static final MethodHandle RING_BUFFER_NEW;
    static final MethodHandle RING_BUFFER_POLL;
    static final MethodHandle RING_BUFFER_CONSUME;
    static final MethodHandle RING_BUFFER_FREE;
    static final MethodHandle PROG_TEST_RUN;
    static final MethodHandle NUM_POSSIBLE_CPUS;
    static final MethodHandle SET_PRINT;
    static final MethodHandle STRERROR;
    static final MethodHandle VSNPRINTF;
    static final MethodHandle SETNS;
    static final MethodHandle OPEN;
    static final MethodHandle CLOSE;
    static final MethodHandle IF_NAMETOINDEX;

    private static final ThreadLocal<ArrayDeque<String>> LOG = ThreadLocal.withInitial(ArrayDeque::new);
    private static final int LOG_LINES = 200;

    static {
        SymbolLookup bpf = null;
        Throwable error = null;
        try {
            bpf = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        } catch (Throwable t) {
            error = t;
        }
        BPF = bpf;
        LOAD_ERROR = error;
        OBJECT_OPEN_MEM = bpfErrno("bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        OBJECT_LOAD = bpf("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        OBJECT_CLOSE = bpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
        OBJECT_FIND_MAP = bpf("bpf_object__find_map_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        OBJECT_FIND_PROGRAM = bpf("bpf_object__find_program_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        PROGRAM_FD = bpf("bpf_program__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MAP_FD = bpf("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MAP_SET_PIN_PATH = bpf("bpf_map__set_pin_path", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MAP_PIN = bpf("bpf_map__pin", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MAP_UNPIN = bpf("bpf_map__unpin", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MAP_REUSE_FD = bpf("bpf_map__reuse_fd", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MAP_SET_MAX_ENTRIES = bpf("bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MAP_KEY_SIZE = bpf("bpf_map__key_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MAP_VALUE_SIZE = bpf("bpf_map__value_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MAP_MAX_ENTRIES = bpf("bpf_map__max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MAP_UPDATE = bpf("bpf_map_update_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        MAP_LOOKUP = bpf("bpf_map_lookup_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        MAP_DELETE = bpf("bpf_map_delete_elem", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        MAP_NEXT_KEY = bpf("bpf_map_get_next_key", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        OBJ_GET = bpf("bpf_obj_get", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        TC_HOOK_CREATE = bpf("bpf_tc_hook_create", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        TC_HOOK_DESTROY = bpf("bpf_tc_hook_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        TC_ATTACH = bpf("bpf_tc_attach", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        TC_DETACH = bpf("bpf_tc_detach", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        TC_QUERY = bpf("bpf_tc_query", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        RING_BUFFER_NEW = bpfErrno("ring_buffer__new", FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        RING_BUFFER_POLL = bpf("ring_buffer__poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        RING_BUFFER_CONSUME = bpf("ring_buffer__consume", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        RING_BUFFER_FREE = bpf("ring_buffer__free", FunctionDescriptor.ofVoid(ADDRESS));
        PROG_TEST_RUN = bpf("bpf_prog_test_run_opts", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        NUM_POSSIBLE_CPUS = bpf("libbpf_num_possible_cpus", FunctionDescriptor.of(JAVA_INT));
        SET_PRINT = bpf("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS));
        STRERROR = libc("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        VSNPRINTF = libc("vsnprintf", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        SETNS = libcErrno("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        OPEN = libcErrno("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        IF_NAMETOINDEX = libcErrno("if_nametoindex", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        installPrintCallback();
    }

    private LibBpf() {}

    /** Throws with the reason when libbpf.so.1 cannot be loaded (tests use it to skip). */
    public static void ensureAvailable() {
        if (BPF == null) {
            throw new BpfException("libbpf.so.1 is not loadable: " + LOAD_ERROR, 0);
        }
    }

    public static boolean available() {
        return BPF != null;
    }

    private static MethodHandle bpf(String name, FunctionDescriptor fd, Linker.Option... options) {
        if (BPF == null) {
            return unavailable(name, fd, options.length > 0);
        }
        MemorySegment sym = BPF.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libbpf.so.1 has no " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    private static MethodHandle bpfErrno(String name, FunctionDescriptor fd) {
        return bpf(name, fd, CAPTURE_ERRNO);
    }

    private static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment sym = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    private static MethodHandle libcErrno(String name, FunctionDescriptor fd) {
        return libc(name, fd, CAPTURE_ERRNO);
    }

    /** A handle that throws, with the right type, so class init succeeds without libbpf. */
    private static MethodHandle unavailable(String name, FunctionDescriptor fd, boolean capture) {
        MethodType type = fd.toMethodType();
        if (capture) {
            type = type.insertParameterTypes(0, MemorySegment.class);
        }
        MethodHandle thrower = MethodHandles.throwException(type.returnType(), BpfException.class);
        MethodHandle withEx = MethodHandles.insertArguments(thrower, 0,
                new BpfException("libbpf.so.1 is not loadable, cannot call " + name, 0));
        return MethodHandles.dropArguments(withEx, 0, type.parameterList());
    }

    /** A segment for the errno captured by a call. */
    static MemorySegment errnoSegment(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment captured) {
        return (int) ERRNO.get(captured, 0L);
    }

    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    public static int numPossibleCpus() {
        try {
            int n = (int) NUM_POSSIBLE_CPUS.invokeExact();
            if (n < 0) {
                throw BpfException.of("libbpf_num_possible_cpus", "", -n);
            }
            return n;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** libbpf log lines of this thread since the last call, joined. */
    public static String drainLog() {
        ArrayDeque<String> q = LOG.get();
        if (q.isEmpty()) {
            return "";
        }
        String s = String.join("", q);
        q.clear();
        return s;
    }

    /** Discards this thread's buffered libbpf log. */
    public static void clearLog() {
        LOG.get().clear();
    }

    private static void installPrintCallback() {
        if (BPF == null) {
            return;
        }
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(LibBpf.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = LINKER.upcallStub(target,
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), Arena.global());
            MemorySegment old = (MemorySegment) SET_PRINT.invokeExact(stub);
            if (old == null) {
                throw new IllegalStateException("libbpf_set_print returned null");
            }
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    /** libbpf's print callback: (level, fmt, va_list). Formats with vsnprintf, keeps WARN/INFO lines. */
    @SuppressWarnings("unused")
    private static int print(int level, MemorySegment fmt, MemorySegment args) {
        if (level > 1) { // LIBBPF_DEBUG
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(65536);
            int n = (int) VSNPRINTF.invokeExact(buf, 65536L, fmt, args);
            if (n > 0) {
                ArrayDeque<String> q = LOG.get();
                if (q.size() >= LOG_LINES) {
                    q.removeFirst();
                }
                q.addLast(buf.getString(0));
            }
        } catch (Throwable ignored) {
            // never throw into C
        }
        return 0;
    }
}
