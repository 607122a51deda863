#!/usr/bin/env bash
# Ingest into ClickHouse through the real gRPC Push path: a real bin/sieve-relay process (--store clickhouse),
# a ClickHouse server started on a free port, and the agent's own push client (RelayPusher), several streams.
# Writes $1/relay-push.json (default bench/results). Needs `make build` and clickhouse-server.
#   RELAY_HOME   whose bin/sieve-relay runs (default: this tree; e.g. a worktree of an older commit for "before")
#   BENCH_PUSH_OPTS  more -D knobs: -Dbench.push.streams=8 -Dbench.push.seconds=20 -Dbench.push.batch-flows=5000 -Dbench.push.window=16
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
out=${2:-$results/relay-push.json}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
command -v clickhouse-server >/dev/null || { echo "bench-relay-push: clickhouse-server is not installed" >&2; exit 1; }
[ -d e2e/target/test-classes/dev/sieve/e2e/bench ] || { echo "bench-relay-push: e2e test classes are not built: run 'make build'" >&2; exit 1; }
cp_file=e2e/target/bench.classpath
if [ ! -s "$cp_file" ] || [ e2e/pom.xml -nt "$cp_file" ]; then
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f e2e/pom.xml dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
fi
read -r -a extra <<< "${BENCH_PUSH_OPTS:-}"
"$java_home/bin/java" -Xmx3g -XX:+UseParallelGC "${extra[@]}" \
  -cp "e2e/target/test-classes:$(cat "$cp_file")" \
  dev.sieve.e2e.bench.RelayPushBench "${RELAY_HOME:-$PWD}" "$out"
