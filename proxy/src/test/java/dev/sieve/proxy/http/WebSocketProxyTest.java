package dev.sieve.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sieve.api.flow.Verdict;
import dev.sieve.proxy.L7Event;
import dev.sieve.proxy.testing.PlainProxyHarness;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * WebSocket through the proxy: the upgrade request is judged like any request (02-api-http-filter: GET /api/.* from
 * the api-consumer); once the server answered {@code 101}, the connection is a tunnel both ways (the JDK's WebSocket
 * client, a Netty WebSocket echo server), text and binary frames, large ones too. A denied upgrade gets the 403.
 */
class WebSocketProxyTest {

    static EventLoopGroup group;
    static Channel server;
    static PlainProxyHarness proxy;
    static final HttpProxyProtocol protocol = new HttpProxyProtocol();

    @BeforeAll
    @SuppressWarnings("deprecation")
    static void start() throws Exception {
        group = new NioEventLoopGroup(1);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16),
                                new WebSocketServerProtocolHandler("/api/ws", null, false, 1 << 21),
                                new SimpleChannelInboundHandler<WebSocketFrame>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame f) {
                                        if (f instanceof TextWebSocketFrame t) ctx.writeAndFlush(new TextWebSocketFrame("echo " + t.text()));
                                        else if (f instanceof BinaryWebSocketFrame b) ctx.writeAndFlush(new BinaryWebSocketFrame(b.content().retain()));
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        proxy = PlainProxyHarness.start(protocol, (InetSocketAddress) server.localAddress(),
                HttpProxyTest.apiFilter("production/api-consumer"));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) proxy.close();
        if (server != null) server.close().syncUninterruptibly();
        if (group != null) group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Collects what the server sends back. */
    static final class Collector implements WebSocket.Listener {
        final LinkedBlockingQueue<Object> got = new LinkedBlockingQueue<>();
        private final StringBuilder text = new StringBuilder();
        private ByteBuffer binary = ByteBuffer.allocate(0);

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                got.add(text.toString());
                text.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ByteBuffer all = ByteBuffer.allocate(binary.remaining() + data.remaining());
            all.put(binary).put(data).flip();
            binary = all;
            if (last) {
                got.add(binary);
                binary = ByteBuffer.allocate(0);
            }
            ws.request(1);
            return null;
        }
    }

    @Test
    void anAllowedUpgradeBecomesATunnelBothWays() throws Exception {
        proxy.clearEvents();
        Collector c = new Collector();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/api/ws"), c).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 20; i++) {
            ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
            assertThat(c.got.poll(5, TimeUnit.SECONDS)).isEqualTo("echo hello " + i);
        }
        byte[] big = new byte[1 << 20];
        new java.util.Random(7).nextBytes(big);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(10, TimeUnit.SECONDS);
        Object back = c.got.poll(10, TimeUnit.SECONDS);
        assertThat(back).isInstanceOf(ByteBuffer.class);
        assertThat(((ByteBuffer) back).remaining()).isEqualTo(big.length);
        assertThat(((ByteBuffer) back).equals(ByteBuffer.wrap(big))).as("the 1 MB frame came back unchanged").isTrue();
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);

        List<L7Event> events = proxy.await(e -> true, 2, 5000);
        assertThat(events).anySatisfy(e -> {
            assertThat(e.isResponse()).isFalse();
            assertThat(e.verdict()).isEqualTo(Verdict.FORWARDED);
            assertThat(e.layer7().getHttp().getUrl()).endsWith("/api/ws");
        });
        assertThat(events).anySatisfy(e -> {
            assertThat(e.isResponse()).isTrue();
            assertThat(e.layer7().getHttp().getCode()).isEqualTo(101);
        });
        assertThat(protocol.stats().upgrades()).isPositive();
    }

    @Test
    void aDeniedUpgradeIsAnswered403() {
        CompletableFuture<WebSocket> f = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + proxy.port() + "/admin/ws"), new Collector());
        assertThatThrownBy(() -> f.join()).isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(WebSocketHandshakeException.class,
                        e -> assertThat(e.getResponse().statusCode()).isEqualTo(403));
    }
}
