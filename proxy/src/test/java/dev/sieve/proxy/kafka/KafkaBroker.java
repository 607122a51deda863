package dev.sieve.proxy.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real Kafka broker (kafka_2.13, KRaft, broker and controller in one process) for the tests, the demo and the
 * benchmark. Its listener {@code PLAINTEXT} advertises itself; each extra listener advertises another address (a
 * proxy in front of it), so that clients that bootstrap through the proxy keep talking through it.
 */
public final class KafkaBroker implements AutoCloseable {

    /** A listener on {@code port} that tells clients to connect to {@code advertised}. */
    public record Listener(String name, int port, InetSocketAddress advertised) {}

    private final KafkaRaftServer server;
    private final Path dir;
    private final boolean ownsDir;
    private final String host;
    private final int port;

    private KafkaBroker(KafkaRaftServer server, Path dir, boolean ownsDir, String host, int port) {
        this.server = server;
        this.dir = dir;
        this.ownsDir = ownsDir;
        this.host = host;
        this.port = port;
    }

    /** Starts a broker on {@code host:port} (0: a free port) with its data in a new temporary folder. */
    public static KafkaBroker start(String host, int port, List<Listener> extra) throws IOException {
        return start(Files.createTempDirectory("sieve-kafka-"), true, host, port, extra);
    }

    public static KafkaBroker start(Path dir, boolean ownsDir, String host, int port, List<Listener> extra) throws IOException {
        int plain = port == 0 ? freePort() : port;
        int controller = freePort();
        StringBuilder listeners = new StringBuilder("PLAINTEXT://" + host + ":" + plain + ",CONTROLLER://" + host + ":" + controller);
        StringBuilder advertised = new StringBuilder("PLAINTEXT://" + host + ":" + plain);
        StringBuilder protocols = new StringBuilder("PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        for (Listener l : extra) {
            listeners.append(',').append(l.name()).append("://").append(host).append(':').append(l.port());
            advertised.append(',').append(l.name()).append("://").append(l.advertised().getHostString()).append(':').append(l.advertised().getPort());
            protocols.append(',').append(l.name()).append(":PLAINTEXT");
        }
        Properties p = new Properties();
        p.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", "1"),
                Map.entry("controller.quorum.voters", "1@" + host + ":" + controller),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("listeners", listeners.toString()),
                Map.entry("advertised.listeners", advertised.toString()),
                Map.entry("listener.security.protocol.map", protocols.toString()),
                Map.entry("log.dirs", dir.resolve("data").toString()),
                Map.entry("num.partitions", "1"),
                Map.entry("auto.create.topics.enable", "false"),
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("offsets.topic.num.partitions", "1"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "1"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("log.flush.interval.messages", Long.toString(Long.MAX_VALUE)),
                Map.entry("num.network.threads", "2"),
                Map.entry("num.io.threads", "2")));
        Path config = dir.resolve("server.properties");
        try (var out = Files.newBufferedWriter(config)) {
            p.store(out, "sieve test broker");
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc = kafka.tools.StorageTool$.MODULE$.execute(new String[] {"format", "-t", Uuid.randomUuid().toString(),
                "-c", config.toString(), "--ignore-formatted"}, new PrintStream(log, true, StandardCharsets.UTF_8));
        if (rc != 0) throw new IllegalStateException("kafka storage format failed: " + log.toString(StandardCharsets.UTF_8));
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(p, false), Time.SYSTEM);
        try {
            server.startup();
        } catch (RuntimeException e) {
            // e.g. a listener port taken meanwhile on a busy machine: its threads would keep the JVM alive
            try {
                server.shutdown();
                server.awaitShutdown();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (ownsDir) deleteTree(dir);
            throw e;
        }
        return new KafkaBroker(server, dir, ownsDir, host, plain);
    }

    /** The direct address (listener PLAINTEXT). */
    public String bootstrap() {
        return host + ":" + port;
    }

    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        return Admin.create(p);
    }

    public void createTopics(String... names) throws Exception {
        try (Admin a = admin()) {
            List<NewTopic> topics = new ArrayList<>();
            for (String n : names) topics.add(new NewTopic(n, 1, (short) 1));
            a.createTopics(topics).all().get();
        }
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (ownsDir) deleteTree(dir);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The demo's broker: {@code KafkaBroker HOST PORT DIR TOPIC,... [FEED_TOPIC]} creates the topics, appends a
     * record to FEED_TOPIC every 2 s from inside the broker's pod (the demo's notifications), and runs until
     * killed. DIR is left for the demo to remove.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: KafkaBroker HOST PORT DIR TOPIC,... [FEED_TOPIC]");
            System.exit(2);
        }
        Path dir = Path.of(args[2]);
        Files.createDirectories(dir);
        KafkaBroker b = start(dir, false, args[0], Integer.parseInt(args[1]), List.of());
        b.createTopics(Arrays.stream(args[3].split(",")).filter(s -> !s.isBlank()).toArray(String[]::new));
        System.out.println("kafka broker ready on " + b.bootstrap());
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            b.close();
            stop.countDown();
        }));
        if (args.length > 4) {
            var feed = new org.apache.kafka.clients.producer.KafkaProducer<String, String>(KafkaDemoClient.producer(b.bootstrap()));
            for (long i = 0; !stop.await(2, java.util.concurrent.TimeUnit.SECONDS); i++) {
                feed.send(new org.apache.kafka.clients.producer.ProducerRecord<>(args[4], "n", "notification " + i));
            }
        }
        stop.await();
    }
}
