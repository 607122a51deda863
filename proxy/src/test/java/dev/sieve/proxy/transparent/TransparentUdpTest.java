package dev.sieve.proxy.transparent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollEventLoopGroup;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kept answer sockets of {@link TransparentUdp}: answers from one original destination share one socket and
 * still come from that address and port; the number kept is bounded (least recently used first) and a socket idle
 * for the configured time is closed. Real epoll sockets on loopback (IP_TRANSPARENT needs CAP_NET_ADMIN).
 */
class TransparentUdpTest {

    private EpollEventLoopGroup group;
    private TransparentUdp udp;
    private DatagramSocket client;

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "IP_TRANSPARENT needs CAP_NET_ADMIN");
        group = new EpollEventLoopGroup(1);
        client = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client.setSoTimeout(2000);
    }

    @AfterEach
    void tearDown() {
        if (udp != null) udp.close();
        if (client != null) client.close();
        if (group != null) group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void answersFromOneDestinationShareOneSocketAndComeFromIt() throws Exception {
        udp = new TransparentUdp(4, Duration.ofSeconds(30));
        InetSocketAddress server = free("127.0.0.53");
        for (int i = 0; i < 50; i++) {
            send(server, "answer " + i);
            DatagramPacket p = receive();
            assertThat(new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII)).isEqualTo("answer " + i);
            assertThat(p.getSocketAddress()).as("the answer's source").isEqualTo(server);
        }
        assertThat(udp.replySocketsOpened()).as("sockets opened for 50 answers").isEqualTo(1);
        assertThat(udp.replySockets()).isEqualTo(1);
    }

    @Test
    void theNumberOfKeptSocketsIsBoundedLeastRecentlyUsedFirst() throws Exception {
        udp = new TransparentUdp(2, Duration.ofSeconds(30));
        InetSocketAddress a = free("127.0.0.61"), b = free("127.0.0.62"), c = free("127.0.0.63");
        send(a, "a");
        receive();
        send(b, "b");
        receive();
        send(a, "a again"); // b is now the least recently used
        receive();
        send(c, "c");
        assertThat(receive().getSocketAddress()).isEqualTo(c);
        await("two sockets kept", () -> udp.replySockets() == 2);
        send(a, "a kept");
        assertThat(receive().getSocketAddress()).isEqualTo(a);
        assertThat(udp.replySocketsOpened()).as("a was kept, b evicted").isEqualTo(3);
        send(b, "b back");
        assertThat(receive().getSocketAddress()).as("an evicted destination answers from a new socket").isEqualTo(b);
        assertThat(udp.replySocketsOpened()).isEqualTo(4);
        assertThat(udp.replySockets()).isLessThanOrEqualTo(2);
    }

    @Test
    void anIdleSocketIsClosedAndTheNextAnswerOpensANewOne() throws Exception {
        udp = new TransparentUdp(4, Duration.ofMillis(200));
        InetSocketAddress server = free("127.0.0.71");
        send(server, "first");
        receive();
        assertThat(udp.replySockets()).isEqualTo(1);
        await("the idle socket closed", () -> udp.replySockets() == 0);
        // its port is free again: the socket really is closed
        try (DatagramSocket s = new DatagramSocket(server)) {
            assertThat(s.getLocalSocketAddress()).isEqualTo(server);
        }
        send(server, "second");
        assertThat(receive().getSocketAddress()).isEqualTo(server);
        assertThat(udp.replySocketsOpened()).isEqualTo(2);
    }

    @Test
    void closingClosesEveryKeptSocketAndLaterAnswersFail() throws Exception {
        udp = new TransparentUdp(4, Duration.ofSeconds(30));
        InetSocketAddress server = free("127.0.0.81");
        send(server, "x");
        receive();
        udp.close();
        assertThat(udp.replySockets()).isZero();
        EventLoop loop = group.next();
        assertThat(udp.reply(loop, server, (InetSocketAddress) client.getLocalSocketAddress(), Unpooled.wrappedBuffer(new byte[] {1}))
                .await(2, TimeUnit.SECONDS)).isTrue();
        await("the port is free", () -> {
            try (DatagramSocket s = new DatagramSocket(server)) {
                return true;
            } catch (Exception e) {
                return false;
            }
        });
    }

    private void send(InetSocketAddress from, String text) throws Exception {
        EventLoop loop = group.next();
        var sent = loop.submit(() -> udp.reply(loop, from, (InetSocketAddress) client.getLocalSocketAddress(),
                Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.US_ASCII)))).get(2, TimeUnit.SECONDS);
        assertThat(sent.await(2, TimeUnit.SECONDS)).isTrue();
        assertThat(sent.isSuccess()).as("sent: " + sent.cause()).isTrue();
    }

    private DatagramPacket receive() throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[512], 512);
        client.receive(p);
        return p;
    }

    /** A free UDP port on a loopback address. */
    private static InetSocketAddress free(String address) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0))) {
            return new InetSocketAddress(InetAddress.getByName(address), s.getLocalPort());
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for: " + what);
            Thread.sleep(10); // polling a condition, not standing in for one
        }
    }
}
