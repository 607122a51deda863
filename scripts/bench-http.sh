#!/usr/bin/env bash
# HTTP proxy benchmarks (run by scripts/bench.sh with the results folder as $1; writes $1/http.json):
#  - HTTP/1.1 keep-alive small GETs with wrk, 1 and 64 connections: requests/s, p50, p99 latency
#      direct        wrk -> origin (nginx serving a 2-byte body)
#      sieve         wrk -> Sieve's HTTP proxy (PlainProxyHarness: the seed's 02-api-http-filter, GET /api/users
#                    from api-consumer allowed, L7 events built for every request and response) -> origin
#      nginx         wrk -> Debian's nginx as a plain reverse proxy (proxy_pass, upstream keepalive) -> origin
#    Goal: sieve >= 90% of nginx's requests/s and a p99 no worse.
#  - gRPC unary calls/s, grpc-java client and server, direct and through the proxy (goal >= 70%).
# Everything runs on this machine at once (client, proxy, origin): on a shared, busy machine the figures move.
# Knobs: BENCH_HTTP_SECONDS (per run, default 10), BENCH_HTTP_WARMUP (default 10; the JVM's JIT needs it),
# BENCH_GRPC_SECONDS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
secs=${BENCH_HTTP_SECONDS:-10}
warm=${BENCH_HTTP_WARMUP:-10}
grpc_secs=${BENCH_GRPC_SECONDS:-5}
for tool in wrk nginx; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "bench-http: $tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/sieve-bench-http.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for conf in "$work"/*.conf; do [ -f "$conf" ] && "$nginx_bin" -c "$conf" -p "$work" -s stop 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "bench-http: nothing on port $1" >&2; return 1; }

# the proxy's classpath from this tree (reactor build: sibling modules' classes, not ~/.m2's snapshots)
cp_file=$work/classpath
JAVA_HOME=$java_home "$mvn" -B -ntp -q -pl proxy -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
classpath="$root/proxy/target/classes:$root/proxy/target/test-classes:$(cat "$cp_file")"

origin=$(free_port); nginx_proxy=$(free_port); sieve=$(free_port)
nginx_conf() { # NAME WORKERS SERVER-BLOCK
  cat >"$work/$1.conf" <<CONF
worker_processes $2;
daemon on;
pid $work/$1.pid;
error_log $work/$1.error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  $3
}
CONF
  "$nginx_bin" -c "$work/$1.conf" -p "$work"
}
nginx_conf origin 1 "server { listen 127.0.0.1:$origin; location / { return 200 'ok'; } }"
nginx_conf reverse auto "upstream origin { server 127.0.0.1:$origin; keepalive 128; }
  server { listen 127.0.0.1:$nginx_proxy;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
"$java_home/bin/java" -XX:+UseParallelGC -Xms512m -Xmx512m -Xlog:gc:file="$work/gc.log" --enable-native-access=ALL-UNNAMED -cp "$classpath" \
  dev.sieve.proxy.testing.PlainProxyHarness "$sieve" "127.0.0.1:$origin" production/api-consumer production/api-server 80 \
  examples/cluster examples/policies/02-api-http-filter.yaml >"$work/sieve.log" 2>&1 &
sieve_pid=$!
pids+=($sieve_pid)
wait_port "$origin"; wait_port "$nginx_proxy"; wait_port "$sieve"

# CPU time (clock ticks) of a proxy's processes: on a shared machine, CPU per request is steadier than requests/s
ticks() { # TARGET
  local ps=()
  case $1 in sieve) ps=("$sieve_pid") ;; nginx) mapfile -t ps < <(pgrep -P "$(cat "$work/reverse.pid")") ;; *) echo 0; return ;; esac
  local t=0; for p in "${ps[@]}"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done; echo "$t"
}
hz=$(getconf CLK_TCK)

# wrk's --latency output -> "rps p50_ms p99_ms"
measure() { # PORT CONNECTIONS SECONDS
  local threads=1; [ "$2" -gt 1 ] && threads=2
  wrk -t"$threads" -c"$2" -d"$3"s --latency "http://127.0.0.1:$1/api/users" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { printf "%s %s %s %s\n", rps, p50, p99, bad + 0 }'
}
# the proxy is a JVM: warm it up before its runs (the others get the same so the order stays fair)
for port in "$sieve" "$nginx_proxy" "$origin"; do measure "$port" 64 "$warm" >/dev/null; done
measure "$sieve" 1 "$warm" >/dev/null; measure "$sieve" 64 "$warm" >/dev/null

load_start=$(cut -d' ' -f1 /proc/loadavg)
gc_from=$(wc -l <"$work/gc.log")
json="{\"seconds_per_run\": $secs, \"http\": ["
sep=""
for conns in 1 64; do
  for target in direct sieve nginx; do
    case $target in direct) port=$origin ;; sieve) port=$sieve ;; nginx) port=$nginx_proxy ;; esac
    t0=$(ticks "$target")
    read -r rps p50 p99 bad <<<"$(measure "$port" "$conns" "$secs")"
    t1=$(ticks "$target")
    cpu=$(python3 -c "print(round(($t1 - $t0) / $hz * 1e6 / ($rps * $secs), 1) if $rps > 0 else 0)")
    printf '  %-6s %2d conn: %10s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  proxy CPU %s us/request\n' "$target" "$conns" "$rps" "$p50" "$p99" "$bad" "$cpu"
    json+="$sep{\"target\": \"$target\", \"connections\": $conns, \"requests_per_s\": $rps, \"p50_ms\": $p50, \"p99_ms\": $p99, \"non_2xx\": $bad, \"proxy_cpu_us_per_request\": $cpu}"
    sep=", "
  done
done
json+="]"
# the proxy's young collections during the measured runs (a p99 suspect): count, longest and total pause
gc=$(tail -n +"$((gc_from + 1))" "$work/gc.log" | python3 -c '
import re, sys
p = [float(m.group(1)) for m in (re.search(r"Pause.* ([0-9.]+)ms$", l.strip()) for l in sys.stdin) if m]
print("{\"pauses\": %d, \"max_ms\": %.3f, \"total_ms\": %.3f}" % (len(p), max(p, default=0), sum(p)))')
echo "  sieve's GC during the measured runs: $gc"
json+=", \"sieve_gc\": $gc"

grpc=$("$java_home/bin/java" -XX:+UseParallelGC --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp "$classpath" \
  dev.sieve.proxy.testing.GrpcUnaryBench "$grpc_secs" 64 examples 2>/dev/null | tail -1)
echo "  grpc unary (64 outstanding): $grpc"
json+=", \"grpc_unary\": $grpc"
json+=", \"note\": \"wrk, proxy and origin share this machine ($(nproc) cores, load average $load_start at the start of the measured runs, $(cut -d' ' -f1 /proc/loadavg) at the end)\"}"
echo "$json" | python3 -m json.tool >"$results/http.json"
python3 - "$results/http.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
by = {(x["target"], x["connections"]): x for x in r["http"]}
for c in (1, 64):
    s, n = by[("sieve", c)], by[("nginx", c)]
    print(f"  {c:2d} conn: sieve/nginx requests/s {s['requests_per_s'] / n['requests_per_s']:.0%} (goal >= 90%), "
          f"p99 sieve {s['p99_ms']} ms vs nginx {n['p99_ms']} ms, "
          f"CPU per request sieve {s['proxy_cpu_us_per_request']} us vs nginx {n['proxy_cpu_us_per_request']} us")
print(f"  grpc: proxy/direct {r['grpc_unary']['ratio']:.0%} (goal >= 70%)")
PY
