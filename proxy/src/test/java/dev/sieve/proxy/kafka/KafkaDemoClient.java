package dev.sieve.proxy.kafka;

import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The demo's Kafka clients, run in the producer's and the consumer's pods by {@code scripts/demo/kafka.sh}:
 * <pre>
 *   KafkaDemoClient produce BOOTSTRAP ALLOWED_TOPIC DENIED_TOPIC   one record to each every second
 *   KafkaDemoClient consume BOOTSTRAP GROUP TOPIC,TOPIC DENIED_TOPIC  a consumer group on the topics; every
 *                                                                  10 s a fetch of DENIED_TOPIC and a produce
 * </pre>
 * Each prints one line per outcome change, so the demo's log shows what the proxy allowed and refused.
 */
public final class KafkaDemoClient {

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: KafkaDemoClient produce BOOTSTRAP ALLOWED DENIED | consume BOOTSTRAP GROUP TOPICS DENIED");
            System.exit(2);
        }
        if (args[0].equals("produce")) produce(args[1], args[2], args[3]);
        else consume(args[1], args[2], List.of(args[3].split(",")), args.length > 4 ? args[4] : null);
    }

    static Properties producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false"); // Cilium's produce role has no InitProducerId
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "8000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return p;
    }

    static void produce(String bootstrap, String allowed, String denied) throws InterruptedException {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producer(bootstrap))) {
            for (long i = 0; ; i++) {
                for (String topic : List.of(allowed, denied)) {
                    try {
                        p.send(new ProducerRecord<>(topic, "k", "record " + i)).get(10, TimeUnit.SECONDS);
                        report("produce " + topic + ": ok");
                    } catch (Exception e) {
                        report("produce " + topic + ": " + cause(e));
                    }
                }
                Thread.sleep(1000);
            }
        }
    }

    static void consume(String bootstrap, String group, List<String> topics, String denied) throws InterruptedException {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Properties snoop = new Properties();
        snoop.putAll(c);
        snoop.remove(ConsumerConfig.GROUP_ID_CONFIG);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c);
             KafkaConsumer<String, String> other = new KafkaConsumer<>(snoop);
             KafkaProducer<String, String> producer = new KafkaProducer<>(producer(bootstrap))) {
            consumer.subscribe(topics);
            long nextProbe = 0;
            while (true) {
                try {
                    var records = consumer.poll(Duration.ofMillis(1000));
                    for (var r : records) report("fetch " + r.topic() + ": ok");
                } catch (Exception e) {
                    report("fetch " + topics + ": " + cause(e));
                    Thread.sleep(1000);
                }
                if (denied != null && System.nanoTime() > nextProbe) {
                    nextProbe = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    try {
                        other.assign(List.of(new TopicPartition(denied, 0)));
                        other.poll(Duration.ofMillis(500));
                        report("fetch " + denied + ": ok");
                    } catch (Exception e) {
                        report("fetch " + denied + ": " + cause(e));
                    }
                    try {
                        producer.send(new ProducerRecord<>(topics.get(0), "k", "from the consumer")).get(10, TimeUnit.SECONDS);
                        report("produce " + topics.get(0) + ": ok");
                    } catch (Exception e) {
                        report("produce " + topics.get(0) + ": " + cause(e));
                    }
                }
            }
        }
    }

    private static final java.util.Map<String, String> LAST = new java.util.HashMap<>();

    private static void report(String line) {
        int colon = line.indexOf(": ");
        String what = line.substring(0, colon), outcome = line.substring(colon + 2);
        if (!outcome.equals(LAST.put(what, outcome))) {
            System.out.println(LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " " + line);
        }
    }

    private static String cause(Throwable e) {
        while (e.getCause() != null && e.getCause() != e) e = e.getCause();
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")");
    }
}
