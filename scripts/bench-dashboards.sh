#!/usr/bin/env bash
# Dashboard panel benchmark (run by scripts/bench.sh with the results folder as $1; writes $1/dashboards.json and .md):
# every ClickHouse query of dashboards/grafana/clickhouse/ (panels and template variables, variables at All) over
# 10,000,000 flows spanning 24 h on a ClickHouse 18.16 server started on free ports (removed afterwards);
# goal: median < 500 ms per panel. Takes ~3-6 min (most of it generating and merging the flows).
# Needs `make build` (compiles the dashboards' test classes) and clickhouse-server (scripts/install-deps.sh).
# Knobs: BENCH_DASHBOARDS_FLOWS, BENCH_DASHBOARDS_RUNS, BENCH_DASHBOARDS_CLICKHOUSE_URL (an existing server).
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
command -v clickhouse-server >/dev/null || { echo "bench-dashboards: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2; exit 1; }
cp_file=dashboards/target/bench.classpath
if [ ! -s "$cp_file" ] || [ dashboards/pom.xml -nt "$cp_file" ] || [ relay/pom.xml -nt "$cp_file" ] \
   || [ ! -f dashboards/target/test-classes/dev/sieve/dashboards/DashboardsBench.class ]; then
  # in the reactor, so this tree's modules (and their poms' dependencies) are used, not ~/.m2's
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -pl dashboards -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
fi
props=(-Dsieve.repo.dir="$PWD" -Dbench.dashboards.flows="${BENCH_DASHBOARDS_FLOWS:-10000000}" -Dbench.dashboards.runs="${BENCH_DASHBOARDS_RUNS:-7}")
[ -n "${BENCH_DASHBOARDS_CLICKHOUSE_URL:-}" ] && props+=(-Dbench.dashboards.url="$BENCH_DASHBOARDS_CLICKHOUSE_URL")
# Sieve's own modules from this tree's target/ folders, not the SNAPSHOT jars in ~/.m2 (which another tree may have installed)
cp=$(tr ':' '\n' < "$cp_file" | sed -E "s#^.*/dev/sieve/sieve-([a-z]+)/[^/]+/sieve-[a-z]+-[^/]*-tests\.jar\$#$PWD/\1/target/test-classes#;
  s#^.*/dev/sieve/sieve-([a-z]+)/[^/]+/sieve-[a-z]+-[^/]*\.jar\$#$PWD/\1/target/classes#" | paste -sd: -)
"$java_home/bin/java" -Xmx1g --enable-native-access=ALL-UNNAMED "${props[@]}" \
  -cp "dashboards/target/test-classes:$cp" dev.sieve.dashboards.DashboardsBench "$results"
