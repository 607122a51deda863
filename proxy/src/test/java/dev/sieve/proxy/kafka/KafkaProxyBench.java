package dev.sieve.proxy.kafka;

import dev.sieve.policy.trace.Tracer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code scripts/bench-kafka.sh}: produce (1 KB records, acks=1, 1 and 8 producers) and fetch throughput, directly
 * to a real KRaft broker and through the Kafka proxy (judged by 05b-kafka-topic-control-roles), in one JVM.
 * Usage: {@code KafkaProxyBench EXAMPLES_DIR OUT.json [SECONDS]}.
 */
public final class KafkaProxyBench {

    static final String BROKER = "messaging/kafka-broker";
    /** As many event loops as the agent's node proxy runs (Agent: NodeProxy.Settings eventLoops). */
    static final int EVENT_LOOPS = 2;

    public static void main(String[] args) throws Exception {
        Path examples = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        Tracer tracer = KafkaProxyHarness.tracer(examples, "../../scripts/demo/05b-kafka-topic-control-roles.yaml");
        KafkaProxyProtocol protocol = new KafkaProxyProtocol();
        int producerListener = KafkaBroker.freePort(), consumerListener = KafkaBroker.freePort();
        Map<String, Object> results = new LinkedHashMap<>();
        try (KafkaProxyHarness producers = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/producer", BROKER, 9092),
                     () -> new InetSocketAddress("127.0.0.1", producerListener), EVENT_LOOPS);
             KafkaProxyHarness consumers = new KafkaProxyHarness(protocol, KafkaProxyHarness.connection(tracer, "messaging/consumer", BROKER, 9092),
                     () -> new InetSocketAddress("127.0.0.1", consumerListener), EVENT_LOOPS);
             KafkaBroker broker = KafkaBroker.start("127.0.0.1", 0, List.of(
                     new KafkaBroker.Listener("PRODUCERS", producerListener, producers.address()),
                     new KafkaBroker.Listener("CONSUMERS", consumerListener, consumers.address())))) {
            broker.createTopics("payments");
            String direct = broker.bootstrap();
            String viaProducerProxy = "127.0.0.1:" + producers.port();
            String viaConsumerProxy = "127.0.0.1:" + consumers.port();
            produce(direct, 1, 2); // warm-up: JIT, the topic's log
            produce(viaProducerProxy, 1, 2);
            // each case twice, alternating direct and proxied, the better of each: the machine is shared and noisy
            for (int n : new int[] {1, 8}) {
                double d = 0, p = 0;
                long cpu = 0, records = 0;
                for (int round = 0; round < 2; round++) {
                    d = Math.max(d, produce(direct, n, seconds));
                    long before = proxyCpuNanos();
                    double rate = produce(viaProducerProxy, n, seconds);
                    cpu += proxyCpuNanos() - before;
                    records += (long) (rate * seconds);
                    p = Math.max(p, rate);
                }
                Map<String, Object> e = entry("records/s", d, p, 0.70);
                e.put("proxy_cpu_us_per_record", String.format(Locale.ROOT, "%.2f", cpu / 1e3 / Math.max(1, records)));
                results.put("produce_1kb_acks1_producers_" + n, e);
            }
            fetch(direct, 2); // warm-up: JIT, page cache
            fetch(viaConsumerProxy, 2);
            double d = 0, p = 0;
            for (int round = 0; round < 2; round++) {
                d = Math.max(d, fetch(direct, seconds));
                p = Math.max(p, fetch(viaConsumerProxy, seconds));
            }
            results.put("fetch_from_beginning", entry("MB/s", d, p, 0.80));
            long events = producers.events.size() + consumers.events.size();
            results.put("proxy_l7_events", events);
        }
        StringBuilder json = new StringBuilder("{\n  \"note\": \"one run on this 2-core machine (other work on it moves the figures); broker, proxy (two Netty event loops per role, as the agent runs it) and clients in one JVM\",\n");
        int i = 0;
        for (var e : results.entrySet()) {
            json.append("  \"").append(e.getKey()).append("\": ").append(e.getValue() instanceof Map<?, ?> m ? toJson(m) : e.getValue());
            json.append(++i < results.size() ? ",\n" : "\n");
        }
        json.append("}\n");
        Files.writeString(out, json);
        System.out.print(json);
    }

    /** CPU time of the proxy's event loops (the harness's threads) so far. */
    static long proxyCpuNanos() {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("multiThreadIoEventLoopGroup")) sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
        }
        return sum;
    }

    static Map<String, Object> entry(String unit, double direct, double proxied, double goal) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("unit", "\"" + unit + "\"");
        m.put("direct", String.format(Locale.ROOT, "%.1f", direct));
        m.put("through_proxy", String.format(Locale.ROOT, "%.1f", proxied));
        m.put("ratio", String.format(Locale.ROOT, "%.3f", proxied / direct));
        m.put("goal_ratio", goal);
        return m;
    }

    static String toJson(Map<?, ?> m) {
        StringBuilder sb = new StringBuilder("{");
        int i = 0;
        for (var e : m.entrySet()) sb.append(i++ > 0 ? ", " : "").append('"').append(e.getKey()).append("\": ").append(e.getValue());
        return sb.append('}').toString();
    }

    /** Acknowledged 1 KB records per second of {@code n} producers sending for {@code seconds}. */
    static double produce(String bootstrap, int n, int seconds) throws Exception {
        AtomicLong acked = new AtomicLong();
        byte[] value = new byte[1024];
        List<Thread> threads = new ArrayList<>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                Properties p = new Properties();
                p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                p.put(ProducerConfig.ACKS_CONFIG, "1");
                p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
                p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
                p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                    producer.partitionsFor("payments");
                    while (System.nanoTime() < end) {
                        producer.send(new ProducerRecord<>("payments", value), (md, e) -> {
                            if (e == null) acked.incrementAndGet();
                        });
                    }
                    producer.flush();
                }
            });
            t.start();
            threads.add(t);
        }
        long start = System.nanoTime();
        for (Thread t : threads) t.join();
        double rate = acked.get() / ((System.nanoTime() - start) / 1e9);
        System.err.printf(Locale.ROOT, "produce %d producer(s) via %s: %.0f records/s%n", n, bootstrap, rate);
        return rate;
    }

    /** MB/s of one consumer reading the topic from the beginning for at most {@code seconds}. */
    static double fetch(String bootstrap, int seconds) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        long bytes = 0;
        long start;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition("payments", 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long endOffset = c.endOffsets(List.of(tp)).get(tp);
            c.poll(Duration.ofMillis(1)); // connect, position
            start = System.nanoTime();
            long deadline = start + seconds * 1_000_000_000L;
            while (c.position(tp) < endOffset && System.nanoTime() < deadline) {
                for (var r : c.poll(Duration.ofMillis(200))) bytes += r.serializedValueSize();
            }
        }
        double rate = bytes / 1e6 / ((System.nanoTime() - start) / 1e9);
        System.err.printf(Locale.ROOT, "fetch via %s: %.1f MB/s%n", bootstrap, rate);
        return rate;
    }
}
