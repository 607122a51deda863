#!/usr/bin/env bash
# What TLS costs: a real bin/sieve-relay (memory store) run plaintext and with mTLS ingest, alternating rounds, pushed by
# the agent's own RelayPusher on several streams; then GetFlows (last 1000) latency with and without TLS.
# Writes $1/tls.json (default bench/results). Needs `make build`. Takes about 2 minutes with the defaults.
#   BENCH_TLS_OPTS  -Dbench.tls.streams=4 -Dbench.tls.seconds=10 -Dbench.tls.rounds=2 -Dbench.tls.queries=100
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
[ -f e2e/target/test-classes/dev/sieve/e2e/bench/TlsBench.class ] || { echo "bench-tls: e2e test classes are not built: run 'make build'" >&2; exit 1; }
cp_file=e2e/target/bench-tls.classpath
if [ ! -s "$cp_file" ] || [ e2e/pom.xml -nt "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
  # resolved in this tree's reactor (-am): ~/.m2 may hold other trees' SNAPSHOT poms of the same modules
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -pl e2e -am dependency:build-classpath \
    -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=test >/dev/null
fi
# this tree's own classes first: ~/.m2 may hold other trees' SNAPSHOT jars of the same modules
own=tls/target/classes:observer/target/classes:relay/target/classes:relay/target/test-classes:api/target/classes:flowfilter/target/classes
read -r -a extra <<< "${BENCH_TLS_OPTS:-}"
"$java_home/bin/java" -Xmx2g -XX:+UseParallelGC "${extra[@]}" -Dbench.tls.home="$PWD" \
  -cp "e2e/target/test-classes:$own:$(cat "$cp_file")" dev.sieve.e2e.bench.TlsBench "$results/tls.json"
