#!/usr/bin/env bash
# `make run`: the whole of Sieve on this machine. A lab (pods as network namespaces) for the seed's
# examples, the node agent enforcing their policies with eBPF, the relay (memory store by default, or a
# local ClickHouse with STORE=clickhouse), and steady allowed and denied traffic. Ctrl-C (SIGINT), SIGTERM
# or SIGHUP removes every namespace, link, pinned map and process it made.
#
#   scripts/run.sh                 run until Ctrl-C
#   scripts/run.sh --headless N    run N seconds without the banner, then tear down (used by the tests)
#
# Ports (override with env): SIEVE_OBSERVER_PORT 4244, SIEVE_METRICS_PORT 9965, SIEVE_RELAY_GRPC_PORT 4245,
# SIEVE_RELAY_HTTP_PORT 12000. STORE=memory|clickhouse. SIEVE_RUN_PREFIX names the lab (default "run").
# Node <-> relay is mTLS (certificates from `sieve certs generate` in SIEVE_RUN_CERTS, default WORK/certs; the
# node may push only as node-1, its certificate's name) and the relay's ports speak TLS; SIEVE_RUN_TLS=0 runs
# everything in plaintext.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIEVE_CLI_DAEMON=0 # each bin/sieve here in its own JVM: no CLI daemon outlives the script
root=$PWD

headless=0 duration=0
if [ "${1:-}" = "--headless" ]; then headless=1; duration=${2:?--headless needs seconds}; fi
prefix=${SIEVE_RUN_PREFIX:-run}
store=${STORE:-memory}
obs_port=${SIEVE_OBSERVER_PORT:-4244}
metrics_port=${SIEVE_METRICS_PORT:-9965}
relay_port=${SIEVE_RELAY_GRPC_PORT:-4245}
http_port=${SIEVE_RELAY_HTTP_PORT:-12000}
work=$(mktemp -d "/tmp/sieve-$prefix.XXXXXX")
pids=()
log() { [ "$headless" = 1 ] || echo "$@"; }

cleanup() {
  trap - EXIT INT TERM HUP
  log ""
  log "stopping: agent, relay, traffic, lab $prefix ..."
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bin/sieve lab down --prefix "$prefix" >/dev/null 2>&1 || true
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^sieve-$prefix-" || true); do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "/sys/fs/bpf/sieve/$prefix" "/run/sieve/$prefix"
  rmdir /sys/fs/bpf/sieve /run/sieve 2>/dev/null || true
  [ -n "${ch_dir:-}" ] && rm -rf "$ch_dir"
  rm -rf "$work"
  log "done: nothing of the run is left"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

wait_port() { # PORT SECONDS
  for _ in $(seq $(( $2 * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run: nothing listens on port $1 after $2 s" >&2
  return 1
}

# a leftover of an earlier run that was killed
bin/sieve lab down --prefix "$prefix" >/dev/null 2>&1 || true
rm -rf "/sys/fs/bpf/sieve/$prefix" "/run/sieve/$prefix"

# The demo: the seed's cluster and every example but the clusterwide baseline (06), which would put every
# pod's egress under default deny; `sieve policy trace -f examples/...` shows 06 on its own.
manifests=$work/manifests
mkdir -p "$manifests"
cp examples/cluster/*.yaml "$manifests/"
for f in 01-allow-frontend-to-backend 02-api-http-filter 03-allow-s3-egress 04-deny-dev-to-prod-db 07-k8s-networkpolicy; do
  cp "examples/policies/$f.yaml" "$manifests/"
done
# The demo peers' own policies (scripts/demo/README.md): Kafka, the seed's 05 written with roles, so that
# real clients can bootstrap; gRPC, the inventory service's read-only rule
cp scripts/demo/*.yaml "$manifests/"

log "== lab $prefix: one network namespace per pod of examples/cluster, plus two world hosts"
bin/sieve lab up --manifests "$manifests" --prefix "$prefix" --world 2 >"$work/lab.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "^run 'sieve lab exec" "$work/lab.log" 2>/dev/null && break; sleep 0.1; done
grep -q "^run 'sieve lab exec" "$work/lab.log" || { cat "$work/lab.log" >&2; exit 1; }
[ "$headless" = 1 ] || sed -n '2,100p' "$work/lab.log" | grep -v "^run 'sieve" | sed 's/^/   /'

relay_args=(--store "$store" --grpc-address "127.0.0.1:$relay_port" --http-address "127.0.0.1:$http_port" --manifests "$manifests")
agent_tls=()
tls=${SIEVE_RUN_TLS:-1}
certs=${SIEVE_RUN_CERTS:-$work/certs}
if [ "$tls" = 1 ]; then
  bin/sieve certs generate --out "$certs" --relay-name relay.sieve --nodes node-1 >"$work/certs.log" 2>&1 \
    || { cat "$work/certs.log" >&2; exit 1; }
  relay_args+=(--tls-cert-file "$certs/relay.crt" --tls-key-file "$certs/relay.key" --ingest-client-ca-files "$certs/ca.crt")
  agent_tls=(--relay-tls-ca-files "$certs/ca.crt" --relay-tls-cert-file "$certs/nodes/node-1.crt"
             --relay-tls-key-file "$certs/nodes/node-1.key" --relay-tls-server-name relay.sieve)
  log "== certificates in $certs (CA, relay, node-1, client): node -> relay is mTLS, the relay's ports speak TLS"
fi
if [ "$store" = clickhouse ]; then
  ch_dir=$(mktemp -d /tmp/sieve-clickhouse.XXXXXX)
  ch_http=$(scripts/clickhouse-local.sh start "$ch_dir")
  relay_args+=(--clickhouse-url "http://127.0.0.1:$ch_http")
  pids+=($(cat "$ch_dir/pid"))
  log "== ClickHouse on 127.0.0.1:$ch_http (data in $ch_dir)"
fi
log "== relay ($store store): gRPC 127.0.0.1:$relay_port, web/REST 127.0.0.1:$http_port"
bin/sieve-relay "${relay_args[@]}" >"$work/relay.log" 2>&1 &
pids+=($!)
wait_port "$relay_port" 60 || { tail -20 "$work/relay.log" >&2; exit 1; }

log "== agent node-1: observer 127.0.0.1:$obs_port, metrics 127.0.0.1:$metrics_port"
bin/sieve-agent --node-name node-1 --manifests "$manifests" --netns "sieve-$prefix-node" --pin-prefix "$prefix" \
  --observer-address "127.0.0.1:$obs_port" --metrics-address "127.0.0.1:$metrics_port" \
  --relay "127.0.0.1:$relay_port" --spool-dir "$work/spool" --cleanup-on-exit "${agent_tls[@]}" >"$work/agent.log" 2>&1 &
pids+=($!)
wait_port "$obs_port" 60 || { tail -20 "$work/agent.log" >&2; exit 1; }

ns() { echo "sieve-$prefix-$1"; }
serve() { # POD PORT [udp]
  local flags=(-lk); [ "${3:-}" = udp ] && flags=(-lku)
  ip netns exec "$(ns "$1")" nc "${flags[@]}" -p "$2" >/dev/null 2>&1 </dev/null &
  pids+=($!)
}
serve backend 8080; serve backend 9090; serve database 5432

# Real L7 peers and their steady allowed and denied requests, one file per protocol (scripts/demo/*.sh).
# Each is sourced here and starts its servers and client loops in the background, adding their pids to
# "pids" so that they stop with the rest; they may use ns, serve, log, $work and $headless.
for demo in scripts/demo/*.sh; do
  [ -f "$demo" ] && . "$demo"
done

# steady traffic: what each example allows, and what it does not
probe() { ip netns exec "$(ns "$1")" nc -z -w 1 "$2" "$3" >/dev/null 2>&1 || true; }
traffic() {
  while true; do
    probe frontend 10.244.1.20 8080       # 01: allowed
    probe prod-client 10.244.1.20 8080    # 01: dropped, no rule allows it
    probe ops-tool 10.244.1.20 8080       # 07: allowed, namespace team=ops
    probe prod-client 10.244.1.40 5432    # 04: allowed, cluster
    probe dev-client 10.244.1.40 5432     # 04: denied, development
    probe stranger 10.244.5.10 9092       # 05: dropped at L3/L4 (scripts/demo/kafka.sh runs the real clients)
    probe world1 10.244.1.20 9090         # 07: dropped, outside 10.0.0.0/8
    sleep 1
  done
}
traffic &
pids+=($!)

if [ "$headless" = 1 ]; then
  # in the background and waited for: bash runs a trap only once a foreground command is done, but
  # interrupts `wait` at once
  sleep "$duration" &
  pids+=($!)
  wait $!
  exit 0
fi

if [ "$tls" = 1 ]; then
  scheme=https
  rt="--tls --tls-ca-cert-files $certs/ca.crt --tls-server-name relay.sieve"
  tls_note="
The relay speaks TLS (the node pushes with mTLS as node-1). The stock hubble CLI:

  ../shared/tools/hubble observe --server 127.0.0.1:$relay_port $rt --last 20
  ../shared/tools/hubble status --server 127.0.0.1:$relay_port $rt

bin/sieve takes the same flags, or once for the shell:
  export SIEVE_TLS=true SIEVE_TLS_CA_CERT_FILES=$certs/ca.crt SIEVE_TLS_SERVER_NAME=relay.sieve
(the node's own :$obs_port stays plaintext on loopback: drop them for --server 127.0.0.1:$obs_port)
Web UI and REST: curl --cacert $certs/ca.crt https://127.0.0.1:$http_port/api/v1/nodes
"
else
  scheme=http rt="" tls_note=""
fi
cat <<EOF

Web UI: $scheme://127.0.0.1:$http_port/
$tls_note
Sieve is up. Try, in another terminal:

  bin/sieve observe $rt --verdict DROPPED --follow          # denied traffic, live, from the relay
  bin/sieve observe $rt --namespace production --last 20
  bin/sieve observe --server 127.0.0.1:$obs_port --pod production/backend -o table   # the node itself
  bin/sieve observe $rt --from-pod development/dev-client -o json --last 1
  bin/sieve status $rt && bin/sieve nodes $rt
  curl -s 127.0.0.1:$metrics_port/metrics | grep hubble_
  bin/sieve observe $rt --protocol http --http-path DeleteItem --last 4   # gRPC calls the proxy refused (PERMISSION_DENIED)
  bin/sieve observe $rt --protocol dns --last 20            # DNS queries and answers (scripts/demo/dns.sh)
  bin/sieve fqdn cache list --agent 127.0.0.1:$metrics_port   # what the answers taught the datapath
  bin/sieve policy trace -f examples/cluster examples/policies/04-deny-dev-to-prod-db.yaml \\
      --from development/dev-client --to production/database --dport 5432

REST API on $scheme://127.0.0.1:$http_port/api/v1/. Logs in $work. Ctrl-C stops everything.
EOF
wait
