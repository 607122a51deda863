package dev.sieve.proxy.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * One-shot Kafka steps for end-to-end tests that run a client inside a pod's network namespace, one JVM per pod:
 * <pre>
 *   KafkaProbe BOOTSTRAP STEP...
 *     produce:TOPIC                 one record, acknowledged
 *     group:GROUP:TOPIC[,TOPIC]     a consumer group member reads until it got a record of each topic
 *     fetch:TOPIC                   a group-less consumer reads partition 0 from the beginning
 *     topics                        the topic names Metadata for all topics shows
 *     rawproduce:VERSION:T[,T]      one raw Produce (acks=1) of a record to partition 0 of each topic, by name:
 *                                   each partition's error code, {@code ok payments-0=0,orders-0=29}
 *     rawfetch:VERSION:T[,T]        one raw sessionless Fetch of partition 0 of each topic from offset 0, by name:
 *                                   each partition's error code
 * </pre>
 * Each step prints one line {@code STEP -> ok ...} or {@code STEP -> error <exception class>}; the steps are
 * independent (one failing does not stop the next).
 */
public final class KafkaProbe {

    public static void main(String[] args) {
        String bootstrap = args[0];
        for (int i = 1; i < args.length; i++) {
            String step = args[i];
            String outcome;
            try {
                outcome = "ok " + run(bootstrap, step.split(":"));
            } catch (Exception e) {
                Throwable c = e;
                while (c.getCause() != null && c.getCause() != c) c = c.getCause();
                outcome = "error " + c.getClass().getSimpleName();
            }
            System.out.println(step + " -> " + outcome);
            System.out.flush();
        }
        System.exit(0); // clients' threads must not hold the JVM
    }

    private static String run(String bootstrap, String[] step) throws Exception {
        return switch (step[0]) {
            case "produce" -> {
                Properties config = KafkaDemoClient.producer(bootstrap);
                // patient on a busy machine; a refusal (TOPIC_AUTHORIZATION_FAILED) is not retried anyway
                config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
                config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
                config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
                try (KafkaProducer<String, String> p = new KafkaProducer<>(config)) {
                    var md = p.send(new ProducerRecord<>(step[1], "k", "probe")).get(40, TimeUnit.SECONDS);
                    yield "offset " + md.offset();
                }
            }
            case "group" -> group(bootstrap, step[1], List.of(step[2].split(",")));
            case "fetch" -> {
                try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumer(bootstrap, null))) {
                    TopicPartition tp = new TopicPartition(step[1], 0);
                    c.assign(List.of(tp));
                    c.seekToBeginning(List.of(tp));
                    yield c.poll(Duration.ofSeconds(5)).count() + " records";
                }
            }
            case "topics" -> {
                Properties p = new Properties();
                p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
                p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
                try (Admin admin = Admin.create(p)) {
                    yield String.join(",", new TreeSet<>(admin.listTopics().names().get(10, TimeUnit.SECONDS)));
                }
            }
            case "rawproduce" -> raw(bootstrap, Short.parseShort(step[1]), List.of(step[2].split(",")), true);
            case "rawfetch" -> raw(bootstrap, Short.parseShort(step[1]), List.of(step[2].split(",")), false);
            default -> throw new IllegalArgumentException("unknown step " + step[0]);
        };
    }

    /** One raw Produce or Fetch naming {@code topics}, answered per partition (the proxy splits mixed requests). */
    private static String raw(String bootstrap, short version, List<String> topics, boolean produce) throws Exception {
        int colon = bootstrap.lastIndexOf(':');
        java.util.TreeMap<String, Short> codes = new java.util.TreeMap<>();
        try (RawKafkaClient c = new RawKafkaClient(new java.net.InetSocketAddress(bootstrap.substring(0, colon),
                Integer.parseInt(bootstrap.substring(colon + 1))))) {
            if (produce) {
                var data = new org.apache.kafka.common.message.ProduceRequestData.TopicProduceDataCollection();
                for (String t : topics) {
                    data.add(new org.apache.kafka.common.message.ProduceRequestData.TopicProduceData().setName(t).setPartitionData(List.of(
                            new org.apache.kafka.common.message.ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(
                                    org.apache.kafka.common.record.internal.MemoryRecords.withRecords(org.apache.kafka.common.compress.Compression.NONE,
                                            new org.apache.kafka.common.record.internal.SimpleRecord("raw-probe".getBytes()))))));
                }
                c.send(new org.apache.kafka.common.requests.ProduceRequest.Builder(version, version,
                        new org.apache.kafka.common.message.ProduceRequestData().setAcks((short) 1).setTimeoutMs(10_000).setTopicData(data)).build(version), 1);
                var r = (org.apache.kafka.common.requests.ProduceResponse) c.receive(org.apache.kafka.common.protocol.ApiKeys.PRODUCE, version).response();
                r.data().responses().forEach(t -> t.partitionResponses().forEach(p -> codes.put(t.name() + "-" + p.index(), p.errorCode())));
            } else {
                List<org.apache.kafka.common.message.FetchRequestData.FetchTopic> fetch = new java.util.ArrayList<>();
                for (String t : topics) {
                    fetch.add(new org.apache.kafka.common.message.FetchRequestData.FetchTopic().setTopic(t).setPartitions(List.of(
                            new org.apache.kafka.common.message.FetchRequestData.FetchPartition().setPartition(0).setPartitionMaxBytes(1 << 20))));
                }
                var data = new org.apache.kafka.common.message.FetchRequestData().setReplicaId(-1).setMaxWaitMs(100).setMaxBytes(1 << 20)
                        .setSessionId(0).setSessionEpoch(-1).setTopics(fetch);
                c.send(new org.apache.kafka.common.requests.FetchRequest(data, version), 1);
                var r = (org.apache.kafka.common.requests.FetchResponse) c.receive(org.apache.kafka.common.protocol.ApiKeys.FETCH, version).response();
                if (r.error() != org.apache.kafka.common.protocol.Errors.NONE) throw new IllegalStateException("top-level error " + r.error());
                r.data().responses().forEach(t -> t.partitions().forEach(p -> codes.put(t.topic() + "-" + p.partitionIndex(), p.errorCode())));
            }
        }
        StringBuilder out = new StringBuilder();
        codes.forEach((k, v) -> out.append(out.isEmpty() ? "" : ",").append(k).append('=').append(v));
        return out.toString();
    }

    private static String group(String bootstrap, String group, List<String> topics) {
        Map<String, Integer> seen = new HashMap<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumer(bootstrap, group))) {
            c.subscribe(topics);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (seen.size() < topics.size() && System.nanoTime() < deadline) {
                for (var r : c.poll(Duration.ofMillis(500))) seen.merge(r.topic(), 1, Integer::sum);
            }
            c.commitSync(Duration.ofSeconds(5));
        }
        if (seen.size() < topics.size()) throw new IllegalStateException("records of " + seen.keySet() + " only");
        return new java.util.TreeMap<>(seen).toString();
    }

    private static Properties consumer(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return p;
    }
}
