package dev.sieve.proxy.transparent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadFactory;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The IPv6 UDP socket of a transparent listener. Netty's epoll transport reads IP_ORIGDSTADDR (IPv4) but not
 * IPV6_ORIGDSTADDR, so this one is read with recvmsg(2) directly: a blocking reader thread (from the proxy's
 * thread factory, in the datapath's namespace) hands each datagram's payload, sender and original destination to
 * the listener.
 */
final class Ipv6DatagramReceiver implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Ipv6DatagramReceiver.class.getName());
    private static final int AF_INET6 = 10, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1, SO_RCVTIMEO = 20, IPV6_ORIGDSTADDR = 74;
    private static final int MAX_DATAGRAM = 65535;
    private static final ValueLayout.OfShort NET_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVMSG = handle("recvmsg", FunctionDescriptor.of(ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
    }

    /** One datagram: payload, sender, original destination. */
    interface Handler {
        void datagram(byte[] payload, InetSocketAddress sender, InetSocketAddress originalDestination);
    }

    private final int fd;
    private final Thread reader;
    private volatile boolean closed;

    /** Binds [::]:port (IPv6 only, transparent, original destinations on) and starts reading. */
    Ipv6DatagramReceiver(int port, ThreadFactory threads, Handler handler) throws IOException {
        try {
            fd = (int) SOCKET.invokeExact(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        } catch (Throwable t) {
            throw new IOException("socket(AF_INET6, SOCK_DGRAM)", t);
        }
        if (fd < 0) throw new IOException("socket(AF_INET6, SOCK_DGRAM) failed");
        try (Arena a = Arena.ofConfined()) {
            SocketOptions.set(fd, SocketOptions.SOL_IPV6, SocketOptions.IPV6_V6ONLY, 1);
            SocketOptions.set(fd, SocketOptions.SOL_IPV6, SocketOptions.IPV6_TRANSPARENT, 1);
            SocketOptions.set(fd, SocketOptions.SOL_IPV6, SocketOptions.IPV6_RECVORIGDSTADDR, 1);
            SocketOptions.set(fd, SocketOptions.SOL_SOCKET, SocketOptions.SO_REUSEADDR, 1);
            MemorySegment tv = a.allocate(16); // 200 ms: how soon the reader notices close()
            tv.set(ValueLayout.JAVA_LONG, 8, 200_000);
            int rc = (int) SETSOCKOPT.invokeExact(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
            if (rc != 0) throw new IOException("setsockopt(SO_RCVTIMEO) failed");
            MemorySegment sa = a.allocate(28);
            sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET6);
            sa.set(NET_SHORT, 2, (short) port);
            rc = (int) BIND.invokeExact(fd, sa, 28);
            if (rc != 0) throw new IOException("cannot bind udp6 port " + port);
        } catch (IOException e) {
            closeFd();
            throw e;
        } catch (Throwable t) {
            closeFd();
            throw new IOException("udp6 port " + port, t);
        }
        reader = threads.newThread(() -> read(handler));
        reader.setName("sieve-proxy-udp6-" + port);
        reader.start();
    }

    private void read(Handler handler) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(MAX_DATAGRAM);
            MemorySegment name = a.allocate(28);
            MemorySegment control = a.allocate(256);
            MemorySegment iov = a.allocate(16);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, MAX_DATAGRAM);
            MemorySegment msg = a.allocate(56);
            while (!closed) {
                msg.fill((byte) 0);
                msg.set(ValueLayout.ADDRESS, 0, name);
                msg.set(ValueLayout.JAVA_INT, 8, 28);
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                msg.set(ValueLayout.ADDRESS, 32, control);
                msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
                long n;
                try {
                    n = (long) RECVMSG.invokeExact(fd, msg, 0);
                } catch (Throwable t) {
                    LOG.log(Level.WARNING, "udp6 recvmsg", t);
                    return;
                }
                if (n < 0) continue; // timeout (or closed: the loop ends)
                InetSocketAddress orig = origDst(control, msg.get(ValueLayout.JAVA_LONG, 40));
                if (orig == null) continue;
                try {
                    handler.datagram(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), sockaddr(name, 0), orig);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "udp6 datagram handler failed", e);
                }
            }
        } finally {
            closeFd();
        }
    }

    private static InetSocketAddress origDst(MemorySegment control, long len) {
        long off = 0;
        while (off + 16 <= len) {
            long cmsgLen = control.get(ValueLayout.JAVA_LONG, off);
            int level = control.get(ValueLayout.JAVA_INT, off + 8);
            int type = control.get(ValueLayout.JAVA_INT, off + 12);
            if (cmsgLen < 16) return null;
            if (level == SocketOptions.SOL_IPV6 && type == IPV6_ORIGDSTADDR && cmsgLen >= 16 + 28) return sockaddr(control, off + 16);
            off += (cmsgLen + 7) & ~7L;
        }
        return null;
    }

    private static InetSocketAddress sockaddr(MemorySegment s, long off) {
        int port = Short.toUnsignedInt(s.get(NET_SHORT, off + 2));
        byte[] addr = s.asSlice(off + 8, 16).toArray(ValueLayout.JAVA_BYTE);
        try {
            return TransparentListener.normal(new InetSocketAddress(InetAddress.getByAddress(addr), port));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private synchronized void closeFd() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isOpen() {
        return !closed && reader.isAlive();
    }
}
