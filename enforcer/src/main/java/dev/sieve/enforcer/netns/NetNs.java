package dev.sieve.enforcer.netns;

import dev.sieve.enforcer.libbpf.BpfException;
import dev.sieve.enforcer.libbpf.LibBpf;
import dev.sieve.enforcer.libbpf.Native;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A network namespace to run netlink work in (tc attach, interface lookup). {@link #current()}
 * is the namespace of the process; {@link #named(String)} one from {@code ip netns add}
 * ({@code /var/run/netns/<name>}). Work for a named namespace runs on a fresh platform thread
 * that first joins the namespace with setns(2), so the rest of the JVM is not moved.
 */
public final class NetNs {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final NetNs CURRENT = new NetNs(null);

    private final String name;

    private NetNs(String name) {
        this.name = name;
    }

    public static NetNs current() {
        return CURRENT;
    }

    public static NetNs named(String name) {
        if (name == null || name.isEmpty() || name.contains("/")) {
            throw new IllegalArgumentException("bad network namespace name: '" + name + "'");
        }
        return new NetNs(name);
    }

    /** Namespace name, or null for the process's own. */
    public String name() {
        return name;
    }

    public boolean isCurrent() {
        return name == null;
    }

    /** Runs {@code work} inside this namespace and returns its result. */
    public <T> T call(Callable<T> work) {
        if (name == null) {
            try {
                return work.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("sieve-netns-" + name).unstarted(() -> {
            try {
                enter();
                result.set(work.call());
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while working in netns " + name, e);
        }
        Throwable e = error.get();
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IllegalStateException(e);
        }
        return result.get();
    }

    public void run(Runnable work) {
        call(() -> {
            work.run();
            return null;
        });
    }

    private void enter() {
        String path = "/var/run/netns/" + name;
        int fd = Native.open(path, 0 /* O_RDONLY */ | 0x80000 /* O_CLOEXEC */);
        try {
            int rc = Native.setns(fd, CLONE_NEWNET);
            if (rc != 0) {
                throw BpfException.of("setns", path, -rc);
            }
        } finally {
            Native.close(fd);
        }
    }

    /**
     * Threads that run in this namespace (each joins it before its work): for sockets that must live there, such
     * as the L7 proxy's, whose event loops create them.
     */
    public java.util.concurrent.ThreadFactory threadFactory(String threadName) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> Thread.ofPlatform().daemon().name(threadName + "-" + n.incrementAndGet()).unstarted(() -> {
            if (name != null) enter();
            r.run();
        });
    }

    /** Interface index of {@code ifname} in this namespace (if_nametoindex). */
    public int ifindex(String ifname) {
        return call(() -> {
            int idx = Native.ifNameToIndex(ifname);
            if (idx <= 0) {
                throw BpfException.of("if_nametoindex", ifname + (name != null ? " in netns " + name : ""), -idx);
            }
            return idx;
        });
    }

    @Override
    public String toString() {
        return name == null ? "NetNs[current]" : "NetNs[" + name + "]";
    }

    static {
        LibBpf.available(); // initialise the bindings early
    }
}
