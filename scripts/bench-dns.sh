#!/usr/bin/env bash
# The DNS proxy's cost (scripts/bench.sh runs it; one short run, on a shared busy machine the figures are
# indicative): queries/s and p50/p99 latency straight to a real dnsmasq vs through the DNS proxy on loopback,
# 1 and 32 concurrent clients (goal: >= 80% of direct queries/s, p99 added <= 1 ms); then the time from an
# answer to the datapath allowing its address, over fresh names against the real datapath in network
# namespaces (FqdnLearningEndToEndTest; goal p99 < 1 ms). Writes $1/dns.json.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
seconds=${DNS_BENCH_SECONDS:-5}
names=${DNS_BENCH_NAMES:-1000}
mkdir -p "$results"
command -v dnsmasq >/dev/null || { echo "bench-dns: dnsmasq is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.sieve.bench.DnsBench \
  "$results/dns-proxy.json" "$seconds" "$PWD"

learn=""
if [ "$(id -u)" = 0 ] && [ -x .build/apache-maven-3.9.11/bin/mvn ]; then
  out=$(mktemp /tmp/sieve-bench-dns.XXXXXX)
  JAVA_HOME=$java_home .build/apache-maven-3.9.11/bin/mvn -B -ntp -q -pl agent -am install \
    -Dtest='FqdnLearningEndToEndTest#aThousand*' -Dsurefire.failIfNoSpecifiedTests=false -Dsieve.fqdn.names="$names" >"$out" 2>&1 || true
  learn=$(grep -h "fqdn learn" "$out" agent/target/surefire-reports/*FqdnLearning*.txt 2>/dev/null | head -2 | tr '\n' ' ' || true)
  rm -f "$out"
  echo "$learn"
fi
python3 - "$results/dns-proxy.json" "$results/dns.json" "$learn" <<'PY'
import json, re, sys
proxy = json.load(open(sys.argv[1]))
learn = sys.argv[3]
m = re.search(r"p50 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+) ms over (\d+)", learn)
s = re.search(r"totals: ([0-9.]+) ms of which datapath sync ([0-9.]+) ms", learn)
proxy["answer_to_map"] = ({"p50_ms": float(m.group(1)), "p99_ms": float(m.group(2)), "max_ms": float(m.group(3)),
                           "names": int(m.group(4)), "datapath_sync_share": round(float(s.group(2)) / float(s.group(1)), 3) if s else None}
                          if m else "not measured (needs root and the built tree)")
proxy["load_average_at_end"] = open("/proc/loadavg").read().split()[:3]
json.dump(proxy, open(sys.argv[2], "w"), indent=2)
PY
rm -f "$results/dns-proxy.json"
echo "dns: $results/dns.json"
