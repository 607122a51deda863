package dev.sieve.proxy.transparent;

import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The socket options Netty's epoll transport does not offer: SO_MARK (the datapath recognises the proxy's own
 * packets by it), IPV6_TRANSPARENT and IPV6_V6ONLY. Set through setsockopt(2) on the channel's descriptor.
 */
final class SocketOptions {

    static final int SOL_SOCKET = 1;
    static final int SO_MARK = 36;
    static final int SO_REUSEADDR = 2;
    static final int SOL_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int IPV6_TRANSPARENT = 75;
    static final int IPV6_RECVORIGDSTADDR = 74;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SETSOCKOPT = LINKER.downcallHandle(LINKER.defaultLookup().find("setsockopt").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));
    private static final java.lang.invoke.VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private SocketOptions() {}

    static void set(UnixChannel ch, int level, int option, int value) throws IOException {
        set(ch.fd().intValue(), level, option, value);
    }

    static void set(int fd, int level, int option, int value) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocateFrom(ValueLayout.JAVA_INT, value);
            MemorySegment state = a.allocate(Linker.Option.captureStateLayout());
            int rc = (int) SETSOCKOPT.invokeExact(state, fd, level, option, v, 4);
            if (rc != 0) throw new IOException("setsockopt(" + level + ", " + option + ") failed: errno " + (int) ERRNO.get(state, 0L));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("setsockopt(" + level + ", " + option + ")", t);
        }
    }
}
