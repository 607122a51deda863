#!/usr/bin/env bash
# CLI benchmark (run by scripts/bench.sh with the results folder as $1; writes $1/cli.json and $1/cli.txt):
# whole-process time (wall and user+sys, median of BENCH_CLI_RUNS rounds) of sieve and the stock hubble CLI
# (shared/tools/hubble, or $HUBBLE), run alternately in each round against one relay (memory store) holding
# BENCH_CLI_FLOWS (default 1,000,000) synthetic flows pushed over the ingest API:
#   observe --last 20, observe --last 10000 -o json, status; and sieve policy validate examples (hubble has none);
#   observe --last 20 also with the launcher's dynamic CDS archive instead of the AOT cache, and with neither.
# bin/sieve runs through the native client and its warm CLI daemon (its own socket folder here, stopped at the end):
# that path, the first call of all (no daemon yet: a JVM runs it while the daemon starts), and the plain JVM
# (SIEVE_CLI_DAEMON=0) are measured each; the daemon's own CPU per call is read from /proc.
# The ratio per pair is the median of the per-round sieve/hubble wall-time ratios. Needs `make build`.
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
export SIEVE_CLI_SOCKET_DIR=$tmp/daemon
relay_pid=
cleanup() {
  bin/sieve daemon stop >/dev/null 2>&1 || true
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
SIEVE_CLI_DAEMON=0 bin/sieve --version >/dev/null # trains the class-data archive if the build did not
SIEVE_CLI_DAEMON=0 SIEVE_CLI_CACHE=cds bin/sieve --version >/dev/null # the dynamic archive too, for the CDS-only pair
daemon_pid() { bin/sieve daemon status 2>/dev/null | sed -n 's/.*pid \([0-9]*\),.*/\1/p'; }
daemon_ticks() { local p; p=$(daemon_pid); [ -n "$p" ] && awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0; }
no_daemon() { # stops the CLI daemon (one still starting up first comes up): the next call is a first call
  for _ in $(seq 100); do [ -S "$SIEVE_CLI_SOCKET_DIR/sock" ] && break; sleep 0.1; done
  bin/sieve daemon stop >/dev/null 2>&1 || true
  sleep 0.5
}
# pair NAME "SIEVE CMD" "HUBBLE CMD": runs them alternately $runs times (after one warm-up each), one run of each
# per round, so both see the same machine load; records the medians and the median of the per-round ratios
hubble=${HUBBLE:-}
if [ -z "$hubble" ]; then
  for d in "$PWD" "$PWD/.." "$PWD/../.."; do [ -x "$d/shared/tools/hubble" ] && { hubble=$(cd "$d/shared/tools" && pwd)/hubble; break; }; done
fi
[ -n "$hubble" ] || { echo "bench-cli: the stock hubble CLI (shared/tools/hubble) is missing; set HUBBLE" >&2; exit 1; }
pairs_json=()
timed() { # FILE CMD...: appends "wall cpu"
  local f=$1; shift
  /usr/bin/time -f "%e %U %S" -a -o "$f" bash -c "$*" >/dev/null 2>"$tmp/err" || { echo "bench-cli: '$*' failed:" >&2; cat "$tmp/err" >&2; exit 1; }
}
median() { sort -n | awk '{a[NR]=$1} END{if (NR==0) print "null"; else print a[int((NR+1)/2)]}'; }
pair() { # NAME SIEVE HUBBLE [BEFORE: run untimed before each sieve run]
  local name=$1 s=$2 h=$3 before=${4:-}
  : >"$tmp/s"; : >"$tmp/h"
  bash -c "$s" >/dev/null 2>&1 || true
  [ -n "$h" ] && { bash -c "$h" >/dev/null 2>&1 || true; }
  local t0 t1 dcpu=null
  t0=$(daemon_ticks)
  for _ in $(seq "$runs"); do
    [ -n "$before" ] && eval "$before"
    timed "$tmp/s" "$s"
    [ -n "$h" ] && timed "$tmp/h" "$h"
  done
  t1=$(daemon_ticks)
  # the daemon's CPU per call (when one daemon served the whole pair): what the client's user+sys does not show
  [ -z "$before" ] && [ "$t0" != 0 ] && [ "$t1" -ge "$t0" ] && dcpu=$(awk -v a="$t0" -v b="$t1" -v n="$runs" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.3f", (b-a)/hz/n}')
  local sw sc hw hc ratio ds dh
  ds=${s//$relay/RELAY}; dh=${h//$hubble/hubble}; dh=${dh//$relay/RELAY}
  sw=$(awk '{print $1}' "$tmp/s" | median); sc=$(awk '{printf "%.2f\n", $2+$3}' "$tmp/s" | median)
  if [ -n "$h" ]; then
    hw=$(awk '{print $1}' "$tmp/h" | median); hc=$(awk '{printf "%.2f\n", $2+$3}' "$tmp/h" | median)
    ratio=$(paste -d' ' "$tmp/s" "$tmp/h" | awk '{h=($4>0.005)?$4:0.005; printf "%.2f\n", $1/h}' | median)
    printf "%-40s sieve wall %5.2f s cpu %5.2f s | hubble wall %5.2f s cpu %5.2f s | wall ratio %s (median of %d rounds)\n" "$name" "$sw" "$sc" "$hw" "$hc" "$ratio" "$runs"
    pairs_json+=("{\"name\": \"$name\", \"sieve\": \"$ds\", \"hubble\": \"$dh\", \"sieve_wall_s_median\": $sw, \"sieve_user_sys_s_median\": $sc, \"hubble_wall_s_median\": $hw, \"hubble_user_sys_s_median\": $hc, \"wall_ratio_median\": $ratio, \"daemon_cpu_s_per_call\": $dcpu}")
  else
    printf "%-40s sieve wall %5.2f s cpu %5.2f s | no hubble equivalent\n" "$name" "$sw" "$sc"
    pairs_json+=("{\"name\": \"$name\", \"sieve\": \"$ds\", \"hubble\": null, \"sieve_wall_s_median\": $sw, \"sieve_user_sys_s_median\": $sc, \"daemon_cpu_s_per_call\": $dcpu}")
  fi
  eval "wall_$(echo "$name" | tr -c 'a-z0-9' '_')=$sw"
}
bin/sieve --version >/dev/null # starts the daemon
for _ in $(seq 100); do [ -S "$SIEVE_CLI_SOCKET_DIR/sock" ] && break; sleep 0.1; done
pair "observe --last 20" "bin/sieve observe --server $relay --last 20" "$hubble observe --server $relay --last 20"
pair "observe --last 10000 -o json" "bin/sieve observe --server $relay --last 10000 -o json" "$hubble observe --server $relay --last 10000 -o json"
pair "policy validate examples" "bin/sieve policy validate examples" ""
pair "status" "bin/sieve status --server $relay" "$hubble status --server $relay"
# the first call (no daemon yet: a JVM runs it while the daemon starts beside it)
pair "observe --last 20 (first call)" "bin/sieve observe --server $relay --last 20" "$hubble observe --server $relay --last 20" no_daemon
no_daemon
# the plain JVM (no daemon) with the launcher's start-up caches: the AOT cache, the dynamic class-data archive alone, none
pair "observe --last 20 (JVM)" "SIEVE_CLI_DAEMON=0 bin/sieve observe --server $relay --last 20" "$hubble observe --server $relay --last 20"
pair "observe --last 10000 -o json (JVM)" "SIEVE_CLI_DAEMON=0 bin/sieve observe --server $relay --last 10000 -o json" "$hubble observe --server $relay --last 10000 -o json"
pair "observe --last 20 (JVM, CDS archive)" "SIEVE_CLI_DAEMON=0 SIEVE_CLI_CACHE=cds bin/sieve observe --server $relay --last 20" "$hubble observe --server $relay --last 20"
pair "observe --last 20 (JVM, no app cache)" "SIEVE_CLI_DAEMON=0 SIEVE_CLI_CACHE=none bin/sieve observe --server $relay --last 20" "$hubble observe --server $relay --last 20"
pair "policy validate examples (JVM)" "SIEVE_CLI_DAEMON=0 bin/sieve policy validate examples" ""
pair "status (JVM)" "SIEVE_CLI_DAEMON=0 bin/sieve status --server $relay" "$hubble status --server $relay"
lines=$(bin/sieve observe --server "$relay" --last 10000 -o json | wc -l)
[ "$lines" -eq 10000 ] || { echo "bench-cli: --last 10000 printed $lines flows" >&2; exit 1; }

{
  echo "{"
  echo "  \"benchmark\": \"sieve CLI vs the stock hubble CLI v1.19.4, whole-process time against one relay (memory store), alternated per round\","
  echo "  \"relay_flows\": $held,"
  echo "  \"runs\": $runs,"
  echo "  \"machine_cores\": $(nproc),"
  echo "  \"note\": \"a shared, busy machine: compare the ratios, which are taken per round, more than the absolute figures\","
  echo "  \"pairs\": ["
  for i in "${!pairs_json[@]}"; do
    sep=,; [ "$i" -eq $((${#pairs_json[@]} - 1)) ] && sep=
    echo "    ${pairs_json[$i]}$sep"
  done
  echo "  ]"
  echo "}"
} >"$results/cli.json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$results/cli.json"
python3 - "$results/cli.json" >"$results/cli.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"relay flows: {j['relay_flows']}; {j['runs']} alternated rounds; medians")
for p in j["pairs"]:
    h = f"hubble wall {p['hubble_wall_s_median']} s, cpu {p['hubble_user_sys_s_median']} s, ratio {p['wall_ratio_median']}" if p["hubble"] else "no hubble equivalent"
    d = f" (+ daemon cpu {p['daemon_cpu_s_per_call']} s/call)" if p.get("daemon_cpu_s_per_call") is not None else ""
    print(f"{p['name']:40s} sieve wall {p['sieve_wall_s_median']} s, cpu {p['sieve_user_sys_s_median']} s{d}; {h}")
PY
echo "wrote $results/cli.json"
