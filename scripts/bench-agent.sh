#!/usr/bin/env bash
# The node agent's resident memory with a full flow buffer (goal: under 300 MiB). A two-pod lab, the agent
# with monitor aggregation "none" (every packet an event) and the default 65,536-flow buffer, a ping flood
# until the buffer is full, then VmRSS from /proc. Writes $1/agent.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIEVE_CLI_DAEMON=0 # each bin/sieve here in its own JVM: no CLI daemon outlives the script
results=${1:-bench/results}
prefix=bagent
work=$(mktemp -d /tmp/sieve-bench-agent.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bin/sieve lab down --prefix "$prefix" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/sieve/$prefix" "$work"
}
trap cleanup EXIT
bin/sieve lab down --prefix "$prefix" >/dev/null 2>&1 || true
cat >"$work/cluster.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: default, labels: {app: a}}
status: {podIP: 10.244.9.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: default, labels: {app: b}}
status: {podIP: 10.244.9.2}
---
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: a-to-b, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: b}}
  ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]
YAML
bin/sieve lab up --manifests "$work" --prefix "$prefix" --world 0 >"$work/lab.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "^run 'sieve lab exec" "$work/lab.log" && break; sleep 0.1; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
bin/sieve-agent --node-name node-1 --manifests "$work" --netns "sieve-$prefix-node" --pin-prefix "$prefix" \
  --observer-address "127.0.0.1:$port" --metrics-address "127.0.0.1:$mport" --monitor-aggregation none \
  --cleanup-on-exit >"$work/agent.log" 2>&1 &
agent=$!
pids+=($agent)
for _ in $(seq 600); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
start=$(date +%s.%N)
flows=0
while [ "$flows" -lt 65536 ]; do
  ip netns exec "sieve-$prefix-a" ping -f -c 20000 -q 10.244.9.2 >/dev/null 2>&1 || true
  flows=$(curl -s "127.0.0.1:$mport/metrics" | awk '/^sieve_flow_buffer_flows/ {print int($2)}')
  [ -n "$flows" ] || flows=0
  [ "$(echo "$(date +%s.%N) - $start > 120" | bc)" = 1 ] && break
done
bin/sieve observe --server "127.0.0.1:$port" --all -o json >/dev/null   # a full read of the buffer, too
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
seen=$(bin/sieve status --server "127.0.0.1:$port" 2>/dev/null | head -5 | tr '\n' ' ')
printf '{"agent_rss_idle_mib": %.1f, "agent_rss_full_buffer_mib": %.1f, "flows_in_buffer": %d, "goal_mib": 300}\n' \
  "$(echo "$rss_idle/1024" | bc -l)" "$(echo "$rss/1024" | bc -l)" "$flows" | tee "$results/agent.json"
echo "status: $seen"
