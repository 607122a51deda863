#!/usr/bin/env bash
# The Kafka proxy's throughput: produce (1 KB records, acks=1, 1 and 8 producers) and fetch, directly to a real
# KRaft broker and through the proxy; goals: produce >= 70 %, fetch >= 80 % of direct. One short run (each case twice, 5 s per
# case, SIEVE_BENCH_KAFKA_SECONDS) on a shared machine: the figures are indicative. Writes RESULTS/kafka.json.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -d proxy/target/test-lib ]; then
  echo "bench-kafka: proxy/target/test-lib missing: run 'make build'" >&2
  exit 2
fi
"$java_home/bin/java" -Xmx1g -cp "proxy/target/test-classes:proxy/target/classes:proxy/target/test-lib/*" \
  dev.sieve.proxy.kafka.KafkaProxyBench examples "$results/kafka.json" "${SIEVE_BENCH_KAFKA_SECONDS:-5}"
