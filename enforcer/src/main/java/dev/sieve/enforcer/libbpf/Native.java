package dev.sieve.enforcer.libbpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The few libc calls the enforcer needs besides libbpf; failures return -errno. */
public final class Native {
    private Native() {}

    /** open(2); returns the fd or throws naming the path. */
    public static int open(String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = LibBpf.errnoSegment(a);
            int fd = (int) LibBpf.OPEN.invokeExact(err, a.allocateFrom(path), flags);
            if (fd < 0) {
                throw BpfException.of("open", path, LibBpf.errno(err));
            }
            return fd;
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static void close(int fd) {
        try {
            int rc = (int) LibBpf.CLOSE.invokeExact(fd);
            if (rc < 0) {
                throw new IllegalStateException("close(" + fd + ") failed");
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** setns(2) for the calling thread; 0 or -errno. */
    public static int setns(int fd, int nstype) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = LibBpf.errnoSegment(a);
            int rc = (int) LibBpf.SETNS.invokeExact(err, fd, nstype);
            return rc == 0 ? 0 : -LibBpf.errno(err);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** if_nametoindex(3) in the calling thread's namespace; the index or -errno. */
    public static int ifNameToIndex(String ifname) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = LibBpf.errnoSegment(a);
            int idx = (int) LibBpf.IF_NAMETOINDEX.invokeExact(err, a.allocateFrom(ifname));
            return idx != 0 ? idx : -LibBpf.errno(err);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
