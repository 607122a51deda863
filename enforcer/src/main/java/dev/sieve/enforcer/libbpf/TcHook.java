package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * tc clsact attachment through libbpf (bpf_tc_hook_create / bpf_tc_attach / bpf_tc_detach).
 * Works on the network namespace of the calling thread.
 */
public final class TcHook {
    /** Filter handle and priority Sieve uses on every hook. */
    public static final int HANDLE = 0x5e;
    public static final int PRIORITY = 1;

    private TcHook() {}

    /** Creates the clsact qdisc (if needed); returns true when this call created it. */
    public static boolean createClsact(int ifindex) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hook = hook(a, ifindex, LibBpf.BPF_TC_INGRESS | LibBpf.BPF_TC_EGRESS);
            int rc = (int) LibBpf.TC_HOOK_CREATE.invokeExact(hook);
            if (rc == -LibBpf.EEXIST) {
                return false;
            }
            if (rc < 0) {
                throw BpfException.of("bpf_tc_hook_create", "ifindex " + ifindex, -rc);
            }
            return true;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Removes the clsact qdisc and every filter on it. */
    public static void destroyClsact(int ifindex) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hook = hook(a, ifindex, LibBpf.BPF_TC_INGRESS | LibBpf.BPF_TC_EGRESS);
            int rc = (int) LibBpf.TC_HOOK_DESTROY.invokeExact(hook);
            if (rc < 0 && rc != -LibBpf.ENOENT && rc != -19 /* ENODEV */ && rc != -22 /* EINVAL: no qdisc */) {
                throw BpfException.of("bpf_tc_hook_destroy", "ifindex " + ifindex, -rc);
            }
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Attaches (or replaces) program {@code progFd} at BPF_TC_INGRESS or BPF_TC_EGRESS; returns the prog id. */
    public static int attach(int ifindex, int attachPoint, int progFd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hook = hook(a, ifindex, attachPoint);
            MemorySegment opts = opts(a, progFd, LibBpf.BPF_TC_F_REPLACE);
            int rc = (int) LibBpf.TC_ATTACH.invokeExact(hook, opts);
            if (rc < 0) {
                throw BpfException.of("bpf_tc_attach", "ifindex " + ifindex + ", " + point(attachPoint), -rc);
            }
            return opts.get(ValueLayout.JAVA_INT, 16);
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Removes Sieve's filter; false when there was none. */
    public static boolean detach(int ifindex, int attachPoint) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hook = hook(a, ifindex, attachPoint);
            MemorySegment opts = opts(a, 0, 0);
            int rc = (int) LibBpf.TC_DETACH.invokeExact(hook, opts);
            if (rc == -LibBpf.ENOENT || rc == -22 || rc == -19) {
                return false;
            }
            if (rc < 0) {
                throw BpfException.of("bpf_tc_detach", "ifindex " + ifindex + ", " + point(attachPoint), -rc);
            }
            return true;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Id of the program attached as Sieve's filter, or 0 when none. */
    public static int query(int ifindex, int attachPoint) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hook = hook(a, ifindex, attachPoint);
            MemorySegment opts = opts(a, 0, 0);
            int rc = (int) LibBpf.TC_QUERY.invokeExact(hook, opts);
            if (rc < 0) {
                return 0;
            }
            return opts.get(ValueLayout.JAVA_INT, 16);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MemorySegment hook(Arena a, int ifindex, int attachPoint) {
        MemorySegment hook = a.allocate(LibBpf.TC_HOOK_SIZE, 8);
        hook.set(ValueLayout.JAVA_LONG, 0, LibBpf.TC_HOOK_SIZE);
        hook.set(ValueLayout.JAVA_INT, 8, ifindex);
        hook.set(ValueLayout.JAVA_INT, 12, attachPoint);
        return hook;
    }

    private static MemorySegment opts(Arena a, int progFd, int flags) {
        MemorySegment opts = a.allocate(LibBpf.TC_OPTS_SIZE, 8);
        opts.set(ValueLayout.JAVA_LONG, 0, LibBpf.TC_OPTS_SIZE);
        opts.set(ValueLayout.JAVA_INT, 8, progFd);
        opts.set(ValueLayout.JAVA_INT, 12, flags);
        opts.set(ValueLayout.JAVA_INT, 20, HANDLE);
        opts.set(ValueLayout.JAVA_INT, 24, PRIORITY);
        return opts;
    }

    private static String point(int attachPoint) {
        return attachPoint == LibBpf.BPF_TC_INGRESS ? "ingress" : attachPoint == LibBpf.BPF_TC_EGRESS ? "egress" : "point " + attachPoint;
    }
}
