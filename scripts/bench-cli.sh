#!/usr/bin/env bash
# CLI benchmark (run by scripts/bench.sh with the results folder as $1; writes $1/cli.json and $1/cli.txt):
# whole-process time (wall and user+sys, median of BENCH_CLI_RUNS runs) of
#   sieve observe --server RELAY --last 20
#   sieve observe --server RELAY --last 10000 -o json >/dev/null
# against a relay (memory store) holding BENCH_CLI_FLOWS (default 1,000,000) synthetic flows pushed over the
# ingest API. Target: observe --last 20 under 0.5 s of process time. Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
flows=${BENCH_CLI_FLOWS:-1000000}
runs=${BENCH_CLI_RUNS:-9}
[ -x /usr/bin/time ] || { echo "bench-cli: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
[ -f relay/target/quarkus-app/quarkus-run.jar ] && [ -f cli/target/sieve-cli.jar ] \
  && [ -f cli/target/test-classes/dev/sieve/cli/bench/PushSyntheticFlows.class ] \
  || { echo "bench-cli: not built yet: run 'make build'" >&2; exit 1; }
cp_file=cli/target/bench.classpath
if [ ! -s "$cp_file" ] || [ cli/pom.xml -nt "$cp_file" ]; then
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f cli/pom.xml dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test >/dev/null
fi

tmp=$(mktemp -d /tmp/sieve-bench-cli.XXXXXX)
relay_pid=
cleanup() {
  if [ -n "$relay_pid" ] && kill -0 "$relay_pid" 2>/dev/null; then
    kill "$relay_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$relay_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
grpc_port=$(free_port); http_port=$(free_port)
while [ "$http_port" = "$grpc_port" ]; do http_port=$(free_port); done
relay=127.0.0.1:$grpc_port

echo "starting a relay (memory store) on $relay"
SIEVE_RELAY_JAVA_OPTS="-Xmx4g" bin/sieve-relay --store memory --memory-capacity "$((flows + flows / 10))" \
  --grpc-address "$relay" --http-address "127.0.0.1:$http_port" >"$tmp/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 120); do
  grep -q "Started gRPC server" "$tmp/relay.log" 2>/dev/null && break
  kill -0 "$relay_pid" 2>/dev/null || { echo "bench-cli: the relay did not start:" >&2; tail -20 "$tmp/relay.log" >&2; exit 1; }
  sleep 0.5
done

echo "pushing $flows synthetic flows"
"$java_home/bin/java" -Xmx2g --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED \
  -Djava.io.tmpdir="$tmp" -cp "cli/target/test-classes:cli/target/classes:$(cat "$cp_file")" \
  dev.sieve.cli.bench.PushSyntheticFlows "$relay" "$flows" 2>&1 | grep -v '^WARNING\|^$\|TcpMetrics\|Epoll' || true
held=$(bin/sieve status --server "$relay" -o json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(int(j.get("num_flows", j.get("numFlows", 0))))')
echo "relay holds $held flows"
[ "$held" -ge "$flows" ] || { echo "bench-cli: the relay holds $held flows, expected $flows" >&2; exit 1; }

sleep 3 # let the relay finish compiling and collecting after the ingest before timing a client
# warm the relay's query path (JIT) so that the figures are the client's, not a cold server competing for the 2 cores
for _ in $(seq 5); do bin/sieve observe --server "$relay" --last 10000 -o json >/dev/null; done
for _ in $(seq 5); do bin/sieve observe --server "$relay" --last 20 >/dev/null; done
sleep 2
bin/sieve --version >/dev/null # trains the class-data archive if the build did not
# measure NAME CMD...: runs CMD $runs times (after one warm-up for the page cache), prints and records the medians
declare -A wall cpu
measure() {
  local name=$1; shift
  "$@" >/dev/null 2>"$tmp/err" || { echo "bench-cli: '$*' failed:" >&2; cat "$tmp/err" >&2; exit 1; }
  : >"$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S" -a -o "$tmp/times" "$@" >/dev/null 2>"$tmp/err"
  done
  wall[$name]=$(awk '{print $1}' "$tmp/times" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  cpu[$name]=$(awk '{printf "%.2f\n", $2+$3}' "$tmp/times" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf "%-44s wall %5.2f s   user+sys %5.2f s   (median of %d)\n" "$name" "${wall[$name]}" "${cpu[$name]}" "$runs"
}
measure "observe --last 20" bin/sieve observe --server "$relay" --last 20
measure "observe --last 10000 -o json" bin/sieve observe --server "$relay" --last 10000 -o json
lines=$(bin/sieve observe --server "$relay" --last 10000 -o json | wc -l)
[ "$lines" -eq 10000 ] || { echo "bench-cli: --last 10000 printed $lines flows" >&2; exit 1; }

target_met=$(awk -v c="${cpu[observe --last 20]}" 'BEGIN{print (c < 0.5) ? "true" : "false"}')
cat >"$results/cli.json" <<JSON
{
  "benchmark": "sieve CLI whole-process time against a relay (memory store)",
  "relay_flows": $held,
  "runs": $runs,
  "machine_cores": $(nproc),
  "observe_last_20": {"wall_s_median": ${wall[observe --last 20]}, "user_sys_s_median": ${cpu[observe --last 20]}, "target_user_sys_s": 0.5, "target_met": $target_met},
  "observe_last_10000_json": {"wall_s_median": ${wall[observe --last 10000 -o json]}, "user_sys_s_median": ${cpu[observe --last 10000 -o json]}}
}
JSON
{ echo "relay flows: $held; median of $runs runs"
  echo "observe --last 20:             wall ${wall[observe --last 20]} s, user+sys ${cpu[observe --last 20]} s (target < 0.5 s: $target_met)"
  echo "observe --last 10000 -o json:  wall ${wall[observe --last 10000 -o json]} s, user+sys ${cpu[observe --last 10000 -o json]} s"
} >"$results/cli.txt"
echo "wrote $results/cli.json"
