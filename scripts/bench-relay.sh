#!/usr/bin/env bash
# Relay benchmarks (run by scripts/bench.sh with the results folder as $1), this tree and the previous version
# measured in the same run (keys before_* in relay.json; relay-push.json holds both):
#  - memory store (Arrow ring): load of 1,000,000 encoded flows (target >= 1,000,000 flows/s), queries (target < 50 ms)
#  - ClickHouse (a server started on a free port): ingest in-process through IngestProcessor, then 10,000,000
#    stored flows: `verdict DROPPED --last 100` (target < 150 ms), a one-minute window `--last 1000` (target < 100 ms)
#  - ingest through the gRPC Push path into a bin/sieve-relay process (bench-relay-push.sh; target >= 300,000 flows/s),
#    before and after alternating
# Needs `make build` and clickhouse-server (scripts/install-deps.sh). The previous version is extracted with
# `git archive` into .build/bench-base-REV and its relay built there (offline, a few minutes) the first time.
# Knobs: BENCH_RELAY_BASELINE_REV (a96e5ab; "none" measures this tree only), BENCH_RELAY_MEMORY_FLOWS,
#        BENCH_RELAY_INGEST_SECONDS, BENCH_RELAY_CLICKHOUSE_FLOWS, BENCH_RELAY_CLICKHOUSE_URL (an existing server),
#        BENCH_RELAY_CLICKHOUSE_WRITERS, BENCH_RELAY_OPTS (more -D knobs of RelayBench), BENCH_RELAY_PUSH=0 (skip the
#        push bench), BENCH_RELAY_PUSH_PAIRS (2), BENCH_PUSH_OPTS (-D knobs of the push bench).
# Takes about 10 minutes on an idle machine (twice RelayBench, 2 x 2 push runs), plus the baseline's build once.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-$PWD/.build/apache-maven-3.9.11/bin/mvn}
command -v clickhouse-server >/dev/null || { echo "bench-relay: clickhouse-server is not installed (apt-get install clickhouse-server)" >&2; exit 1; }
[ -d relay/target/test-classes/dev/sieve/relay/bench ] || { echo "bench-relay: relay is not built yet: run 'make build'" >&2; exit 1; }

base_rev=${BENCH_RELAY_BASELINE_REV:-a96e5ab}
base=
if [ "$base_rev" != none ]; then
  base=$PWD/.build/bench-base-$base_rev
  if [ ! -f "$base/relay/target/quarkus-app/quarkus-run.jar" ] || [ ! -d "$base/relay/target/test-classes/dev/sieve/relay/bench" ]; then
    echo "== building the previous version ($base_rev) in $base"
    rm -rf "$base" && mkdir -p "$base"
    git archive "$base_rev" | tar -x -C "$base"
    (cd "$base" && JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -pl relay -am package -DskipTests)
  fi
fi

# RelayBench of TREE into JSON; Sieve's own modules come from the tree's target/classes, not from ~/.m2
relay_bench() {
  local tree=$1 out=$2 cp_file=$1/relay/target/bench.classpath
  if [ ! -s "$cp_file" ] || [ "$tree/relay/pom.xml" -nt "$cp_file" ]; then
    (cd "$tree" && JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f relay/pom.xml dependency:build-classpath \
      -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null)
  fi
  local cp
  cp=$(tr ':' '\n' < "$cp_file" | sed -E "s#^.*/dev/sieve/sieve-(api|flowfilter)/[^/]+/sieve-[a-z]+-[^/]*\.jar\$#$tree/\1/target/classes#" | paste -sd:)
  local props=(-Dbench.clickhouse.writers="${BENCH_RELAY_CLICKHOUSE_WRITERS:-2}" -Dbench.memory.flows="${BENCH_RELAY_MEMORY_FLOWS:-1000000}"
       -Dbench.ingest.seconds="${BENCH_RELAY_INGEST_SECONDS:-20}" -Dbench.clickhouse.flows="${BENCH_RELAY_CLICKHOUSE_FLOWS:-10000000}")
  [ -n "${BENCH_RELAY_CLICKHOUSE_URL:-}" ] && props+=(-Dbench.clickhouse.url="$BENCH_RELAY_CLICKHOUSE_URL")
  local extra=()
  read -r -a extra <<< "${BENCH_RELAY_OPTS:-}"
  props+=("${extra[@]}")
  "$java_home/bin/java" -Xmx6g -XX:+UseParallelGC \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -Darrow.enable_unsafe_memory_access=true -Darrow.enable_null_check_for_get=false \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager "${props[@]}" \
    -cp "$tree/relay/target/classes:$tree/relay/target/test-classes:$cp" \
    dev.sieve.relay.bench.RelayBench "$out"
}

if [ -n "$base" ]; then
  echo "== previous version ($base_rev)"
  relay_bench "$base" "$results/relay-before.json" | tee "$results/relay-before.txt"
fi
echo "== this tree"
relay_bench "$PWD" "$results/relay.json" | tee "$results/relay.txt"
if [ -n "$base" ]; then  # one file: this tree's keys, the previous version's as before_*
  python3 - "$results/relay.json" "$results/relay-before.json" "$base_rev" <<'PY'
import json, sys
after, before = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
out = dict(after)
out["before_version"] = sys.argv[3]
out.update({"before_" + k: v for k, v in before.items()})
json.dump(out, open(sys.argv[1], "w"), indent=2)
PY
  rm -f "$results/relay-before.json"
fi

# ingest through the real gRPC Push path: the agent's push client into a bin/sieve-relay process, alternating trees
if [ "${BENCH_RELAY_PUSH:-1}" = 1 ]; then
  pairs=${BENCH_RELAY_PUSH_PAIRS:-2}
  runs=()
  for i in $(seq "$pairs"); do
    if [ -n "$base" ]; then
      RELAY_HOME=$base BENCH_PUSH_OPTS="${BENCH_PUSH_OPTS:-}" scripts/bench-relay-push.sh "$results" "$results/relay-push-before-$i.json"
      runs+=("before" "$results/relay-push-before-$i.json")
    fi
    BENCH_PUSH_OPTS="${BENCH_PUSH_OPTS:-}" scripts/bench-relay-push.sh "$results" "$results/relay-push-after-$i.json"
    runs+=("after" "$results/relay-push-after-$i.json")
  done
  python3 - "$results/relay-push.json" "${runs[@]}" <<'PY'
import json, os, sys
out = {"before": [], "after": []}
args = sys.argv[2:]
for which, path in zip(args[::2], args[1::2]):
    out[which].append(json.load(open(path)))
    os.remove(path)
    if os.path.exists(path + ".relay.log"):
        os.remove(path + ".relay.log")
json.dump(out, open(sys.argv[1], "w"), indent=2)
print(json.dumps({k: [r["clickhouse_push_ingest_flows_per_s"] for r in v] for k, v in out.items()}))
PY
fi
