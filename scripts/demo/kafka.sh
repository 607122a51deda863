# Kafka (sourced by scripts/run.sh): a real KRaft broker (kafka_2.13, broker and controller in one JVM) in the
# kafka-broker pod, fed a notification every 2 s from inside its pod; a producer in the producer pod that
# produces to payments (allowed by 05b-kafka-topic-control-roles, the seed's 05 with roles) and orders (refused); a consumer group in the
# consumer pod that fetches payments and notifications (allowed) and every 10 s tries audit and a produce
# (refused). Set SIEVE_DEMO_KAFKA=0 to leave Kafka out (three JVMs, about 0.6 GB of memory; the broker needs
# ~10 s of the machine's two cores to start). Their logs are $work/kafka-*.log.
if [ "${SIEVE_DEMO_KAFKA:-1}" != 0 ]; then
  kafka_java=${SIEVE_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
  kafka_cp="$root/proxy/target/test-classes:$root/proxy/target/classes:$root/proxy/target/test-lib/*"
  kafka_jvm=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
  if [ ! -d "$root/proxy/target/test-lib" ]; then
    log "== kafka: proxy/target/test-lib missing (run 'make build'); no Kafka in this demo"
  else
    log "== kafka: KRaft broker 10.244.5.10:9092 in kafka-broker; producer and consumer group in their pods"
    ip netns exec "$(ns kafka-broker)" "$kafka_java" -Xmx384m "${kafka_jvm[@]}" -cp "$kafka_cp" \
      dev.sieve.proxy.kafka.KafkaBroker 10.244.5.10 9092 "$work/kafka-data" payments,notifications,orders,audit notifications \
      >"$work/kafka-broker.log" 2>&1 &
    pids+=($!)
    ip netns exec "$(ns producer)" "$kafka_java" -Xmx96m "${kafka_jvm[@]}" -cp "$kafka_cp" \
      dev.sieve.proxy.kafka.KafkaDemoClient produce 10.244.5.10:9092 payments orders >"$work/kafka-producer.log" 2>&1 &
    pids+=($!)
    ip netns exec "$(ns consumer)" "$kafka_java" -Xmx96m "${kafka_jvm[@]}" -cp "$kafka_cp" \
      dev.sieve.proxy.kafka.KafkaDemoClient consume 10.244.5.10:9092 billing payments,notifications audit \
      >"$work/kafka-consumer.log" 2>&1 &
    pids+=($!)
  fi
fi
