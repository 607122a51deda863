package dev.sieve.proxy.dns;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real dnsmasq on 127.0.0.1 and a free port (UDP and TCP), answering only from the records it is given. */
final class Dnsmasq implements AutoCloseable {

    private final Process process;
    private final Path log;
    final int port;

    private Dnsmasq(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** {@code records}: dnsmasq options such as {@code --host-record=NAME,ADDR}. */
    static Dnsmasq start(List<String> records) throws Exception {
        for (int attempt = 0; attempt < 5; attempt++) {
            int port = freeUdpAndTcpPort();
            Path log = Files.createTempFile("sieve-dnsmasq", ".log");
            List<String> cmd = new ArrayList<>(List.of("dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
                    "--bind-interfaces", "--listen-address=127.0.0.1", "--port=" + port, "--pid-file=", "--user=root",
                    "--local-ttl=30", "--cache-size=0"));
            cmd.addAll(records);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Dnsmasq d = new Dnsmasq(p, log, port);
            if (d.awaitReady()) return d;
            d.close();
        }
        throw new IllegalStateException("dnsmasq did not start");
    }

    private boolean awaitReady() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) return false;
            try (var s = new java.net.Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        return false;
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    static int freeUdpAndTcpPort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (DatagramSocket u = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                int port = u.getLocalPort();
                try (ServerSocket t = new ServerSocket()) {
                    t.bind(new InetSocketAddress("127.0.0.1", port));
                    return port;
                } catch (IOException taken) {
                    // the TCP port is in use: try another
                }
            }
        }
        throw new IOException("no port free for both UDP and TCP");
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        Files.deleteIfExists(log);
    }
}
