#!/usr/bin/env bash
# The DNS proxy's cost on the path a pod's queries take (scripts/bench.sh runs it; one short run, on a shared busy
# machine the figures are indicative). agent's DnsRedirectBench: the real agent and datapath in network namespaces,
# dnsmasq in a kube-dns pod; UDP clients in a pod whose egress policy has an L7 dns rule (the datapath redirects
# every query to the node proxy's transparent socket) vs in a pod allowed port 53 at L4 only (straight through the
# datapath), 1 and 32 concurrent clients: queries/s and p50/p99 (goal: >= 80% of direct queries/s, p99 added
# <= 1 ms); then fresh names, each a new address: the time from the proxy's learn call (answer read) until the
# ipcache entry and policy keys are written (goal p99 < 1 ms), every address then checked in the kernel's ipcache.
# Per run also the CPU time per query of the agent's threads (/proc, user and system apart: proxy event loops, L7 flow
# publisher, FQDN learner, JVM's own), a figure a busy machine disturbs less than queries/s.
# Needs root and the built tree (make build). Writes $1/dns.json. About 1.5 minutes (mostly the Maven start).
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
seconds=${DNS_BENCH_SECONDS:-5}
names=${DNS_BENCH_NAMES:-500}
mkdir -p "$results"
command -v dnsmasq >/dev/null || { echo "bench-dns: dnsmasq is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
if [ "$(id -u)" != 0 ] || [ ! -x .build/apache-maven-3.9.11/bin/mvn ]; then
  echo "bench-dns: needs root and the built tree (make build); skipped" >&2
  exit 0
fi
out=$(mktemp /tmp/sieve-bench-dns.XXXXXX)
trap 'rm -f "$out" "$results/dns.json.tmp"' EXIT
JAVA_HOME=$java_home .build/apache-maven-3.9.11/bin/mvn -B -ntp -q -pl agent -am install \
  -Dtest='DnsRedirectBench' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsieve.bench.dns.out="$PWD/$results/dns.json.tmp" -Dsieve.bench.dns.seconds="$seconds" -Dsieve.bench.dns.names="$names" >"$out" 2>&1 \
  || { grep -E "ERROR|FAIL" "$out" | head -20 >&2; exit 1; }
python3 - "$results/dns.json.tmp" "$results/dns.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["load_average_at_end"] = open("/proc/loadavg").read().split()[:3]
json.dump(r, open(sys.argv[2], "w"), indent=2)
for x in r["runs"]:
    cpu = x.get("jvm_cpu_us_per_query", {})
    proxy = cpu.get("proxy_loops_user", 0) + cpu.get("proxy_loops_sys", 0)
    flows = cpu.get("l7_flow_publisher_user", 0) + cpu.get("l7_flow_publisher_sys", 0)
    print("%-6s %2d clients: %8.0f queries/s  p50 %.3f ms  p99 %.3f ms  CPU us/query: proxy loops %.1f, L7 flows %.1f" % (x["target"], x["clients"], x["qps"], x["p50_ms"], x["p99_ms"], proxy, flows))
for x in r["summary"]:
    print("%2d clients: proxy at %.0f%% of direct queries/s, p99 +%.3f ms" % (x["clients"], 100 * x["proxy_qps_of_direct"], x["p99_added_ms"]))
a = r["answer_to_map"]
print("answer to map: p50 %.3f ms, p99 %.3f ms over %d fresh names, %d missing in the kernel's ipcache" % (a["p50_ms"], a["p99_ms"], a["names"], a["missing_in_kernel_ipcache"]))
PY
echo "dns: $results/dns.json"
