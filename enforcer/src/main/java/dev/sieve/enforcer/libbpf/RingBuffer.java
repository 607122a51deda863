package dev.sieve.enforcer.libbpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * libbpf's ring buffer consumer (ring_buffer__new / __poll / __consume / __free) with a Java
 * upcall per record. The record segment is only valid during {@link Handler#onRecord}. Poll
 * from one thread at a time; the handler runs on that thread.
 */
public final class RingBuffer implements AutoCloseable {
    /** Receives each record; must not keep {@code data} after returning. */
    @FunctionalInterface
    public interface Handler {
        void onRecord(MemorySegment data);
    }

    private static final MethodHandle CALLBACK;

    static {
        try {
            CALLBACK = MethodHandles.lookup().findVirtual(RingBuffer.class, "callback",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Handler handler;
    private final Arena arena = Arena.ofShared();
    private MemorySegment rb;
    private volatile Throwable handlerError;

    public RingBuffer(String name, int mapFd, Handler handler) {
        LibBpf.ensureAvailable();
        this.name = name;
        this.handler = handler;
        MemorySegment stub = Linker.nativeLinker().upcallStub(CALLBACK.bindTo(this),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG), arena);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment err = LibBpf.errnoSegment(tmp);
            rb = (MemorySegment) LibBpf.RING_BUFFER_NEW.invokeExact(err, mapFd, stub, MemorySegment.NULL, MemorySegment.NULL);
            if (rb.equals(MemorySegment.NULL)) {
                int errno = LibBpf.errno(err);
                arena.close();
                throw BpfException.of("ring_buffer__new", name, errno);
            }
        } catch (BpfException e) {
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException(t);
        }
    }

    /** Waits up to {@code timeoutMs} for records and handles them; returns how many. */
    public int poll(int timeoutMs) {
        int n;
        try {
            n = (int) LibBpf.RING_BUFFER_POLL.invokeExact(rb(), timeoutMs);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return result("ring_buffer__poll", n);
    }

    /** Handles every record available now, without waiting; returns how many. */
    public int consume() {
        int n;
        try {
            n = (int) LibBpf.RING_BUFFER_CONSUME.invokeExact(rb());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        return result("ring_buffer__consume", n);
    }

    private int result(String function, int n) {
        Throwable t = handlerError;
        if (t != null) {
            handlerError = null;
            throw new IllegalStateException("ring buffer " + name + " handler failed", t);
        }
        if (n == -4) { // EINTR
            return 0;
        }
        if (n < 0) {
            throw BpfException.of(function, name, -n);
        }
        return n;
    }

    private MemorySegment rb() {
        MemorySegment r = rb;
        if (r == null) {
            throw new IllegalStateException("ring buffer " + name + " is closed");
        }
        return r;
    }

    /** Upcall from C: never lets an exception escape (it would abort the JVM). */
    @SuppressWarnings("unused")
    private int callback(MemorySegment ctx, MemorySegment data, long size) {
        try {
            handler.onRecord(data.reinterpret(size));
            return 0;
        } catch (Throwable t) {
            handlerError = t;
            return -1; // stops this poll round; the error is rethrown by poll()
        }
    }

    @Override
    public synchronized void close() {
        if (rb == null) {
            return;
        }
        try {
            LibBpf.RING_BUFFER_FREE.invokeExact(rb);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            rb = null;
            arena.close();
        }
    }
}
