#!/usr/bin/env bash
# Relay benchmarks (run by scripts/bench.sh with the results folder as $1; writes $1/relay.json and $1/relay-push.json):
#  - memory store (Arrow ring): filtered queries over 1,000,000 flows        (target < 50 ms)
#  - sustained ingest into ClickHouse (a server started on a free port)     (target >= 300,000 flows/s): through
#    IngestProcessor in-process, and through the gRPC Push path into a bin/sieve-relay process (bench-relay-push.sh)
#  - `verdict DROPPED, last 100` over 10,000,000 flows stored in ClickHouse  (target < 300 ms)
# Needs `make build` (compiles relay's test classes) and clickhouse-server (scripts/install-deps.sh).
# Knobs: BENCH_RELAY_MEMORY_FLOWS, BENCH_RELAY_INGEST_SECONDS, BENCH_RELAY_CLICKHOUSE_FLOWS,
#        BENCH_RELAY_CLICKHOUSE_URL (use an existing server instead of starting one), BENCH_RELAY_CLICKHOUSE_WRITERS,
#        BENCH_RELAY_OPTS (more -D knobs: -Dbench.clickhouse.flush-ms=, -Dbench.ingest.window=).
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
command -v clickhouse-server >/dev/null || { echo "bench-relay: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2; exit 1; }
[ -d relay/target/test-classes/dev/sieve/relay/bench ] || { echo "bench-relay: relay is not built yet: run 'make build'" >&2; exit 1; }
cp_file=relay/target/bench.classpath
if [ ! -s "$cp_file" ] || [ relay/pom.xml -nt "$cp_file" ]; then
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f relay/pom.xml dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
fi
props=(-Dbench.clickhouse.writers="${BENCH_RELAY_CLICKHOUSE_WRITERS:-2}" -Dbench.memory.flows="${BENCH_RELAY_MEMORY_FLOWS:-1000000}"
       -Dbench.ingest.seconds="${BENCH_RELAY_INGEST_SECONDS:-20}"
       -Dbench.clickhouse.flows="${BENCH_RELAY_CLICKHOUSE_FLOWS:-10000000}")
[ -n "${BENCH_RELAY_CLICKHOUSE_URL:-}" ] && props+=(-Dbench.clickhouse.url="$BENCH_RELAY_CLICKHOUSE_URL")
# extra -D knobs of RelayBench, e.g. BENCH_RELAY_OPTS="-Dbench.clickhouse.flush-ms=1000 -Dbench.ingest.window=16"
read -r -a extra <<< "${BENCH_RELAY_OPTS:-}"
props+=("${extra[@]}")
"$java_home/bin/java" -Xmx6g -XX:+UseParallelGC \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -Darrow.enable_unsafe_memory_access=true -Darrow.enable_null_check_for_get=false \
  -Djava.util.logging.manager=org.jboss.logmanager.LogManager "${props[@]}" \
  -cp "relay/target/classes:relay/target/test-classes:$(cat "$cp_file")" \
  dev.sieve.relay.bench.RelayBench "$results/relay.json" | tee "$results/relay.txt"
# ingest through the real gRPC Push path: the agent's push client into a bin/sieve-relay process
if [ "${BENCH_RELAY_PUSH:-1}" = 1 ]; then  # BENCH_RELAY_PUSH=0 skips it
  BENCH_PUSH_OPTS="${BENCH_PUSH_OPTS:-}" scripts/bench-relay-push.sh "$results" "$results/relay-push.json"
fi
