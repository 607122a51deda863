#!/usr/bin/env bash
# The `make run` scenario, headless: brings everything up on spare ports, lets the traffic flow, then checks
# through `sieve observe -o json` (from the relay) that flows of every example arrived with the expected
# verdicts, and after teardown that nothing is left behind. Writes "passed failed" counts to $1 if given.
set -uo pipefail
cd "$(dirname "$0")/.."
export SIEVE_CLI_DAEMON=0 # each bin/sieve here in its own JVM: no CLI daemon outlives the script
out=${1:-}
export SIEVE_RUN_PREFIX=smoke$$ SIEVE_OBSERVER_PORT=${SIEVE_OBSERVER_PORT:-24244} SIEVE_METRICS_PORT=${SIEVE_METRICS_PORT:-29965}
export SIEVE_RELAY_GRPC_PORT=${SIEVE_RELAY_GRPC_PORT:-24245} SIEVE_RELAY_HTTP_PORT=${SIEVE_RELAY_HTTP_PORT:-22000}
SIEVE_RUN_PREFIX=${SIEVE_RUN_PREFIX:0:8}
# node <-> relay mTLS as make run sets it up; the clients below trust its CA
certs=$(mktemp -d)
export SIEVE_RUN_CERTS=$certs/certs
tls=(--tls --tls-ca-cert-files "$SIEVE_RUN_CERTS/ca.crt" --tls-server-name relay.sieve)
flows=$(mktemp)
hubble_counts=$(mktemp)
grpc_log=$(mktemp)
run=
# if this script is stopped early, the scenario is stopped with it (not left to run out its 120 s)
trap '[ -n "$run" ] && kill -INT -- -"$run" 2>/dev/null; rm -rf "$flows" "$hubble_counts" "$grpc_log" "$certs"' EXIT

# A job started in the background of a non-interactive shell ignores SIGINT, and bash cannot trap a signal
# ignored on entry: with job control on, run.sh starts in a process group of its own with SIGINT's default
# disposition, as in a terminal, and the Ctrl-C below reaches it.
set -m
scripts/run.sh --headless 120 &
run=$!
set +m
# the traffic loop probes every example about once a second; once flows arrive, give it a few more rounds
for _ in $(seq 100); do
  sleep 1
  bin/sieve observe --server "127.0.0.1:$SIEVE_RELAY_GRPC_PORT" "${tls[@]}" --all -o json >"$flows" 2>/dev/null || true
  # the Kafka broker takes the longest to come up: wait for its clients' first requests too
  [ "$(wc -l <"$flows")" -gt 100 ] && grep -q '"kafka"' "$flows" && grep -q 'DeleteItem' "$flows" && break
done
sleep 6
bin/sieve observe --server "127.0.0.1:$SIEVE_RELAY_GRPC_PORT" "${tls[@]}" --all -o json >"$flows" 2>/dev/null || true
# the stock hubble CLI (../shared/tools) sees the L7 proxies' refusals through the relay as a Hubble user would
hubble=../shared/tools/hubble
if [ -x "$hubble" ]; then
  for p in http dns kafka; do
    n=$("$hubble" observe --server "127.0.0.1:$SIEVE_RELAY_GRPC_PORT" "${tls[@]}" --protocol "$p" --verdict DROPPED --last 20 -o json 2>/dev/null | grep -c '"flow"')
    echo "$p ${n:-0}" >>"$hubble_counts"
  done
fi
# what the demo's gRPC client saw (scripts/demo/grpc.sh), before the teardown
cat /tmp/sieve-"$SIEVE_RUN_PREFIX".*/grpc-client.log >"$grpc_log" 2>/dev/null || true
# Ctrl-C as a terminal delivers it, to the scenario's process group; if it is not heard within a minute,
# SIGTERM (and the check below fails)
stop_start=$SECONDS
kill -INT -- -"$run" 2>/dev/null
for _ in $(seq 600); do kill -0 "$run" 2>/dev/null || break; sleep 0.1; done
kill -TERM -- -"$run" 2>/dev/null
wait "$run"
run_status=$?
run=
stop_seconds=$((SECONDS - stop_start))

python3 - "$flows" "$run_status" "$SIEVE_RUN_PREFIX" "$out" "$stop_seconds" "$hubble_counts" "$grpc_log" <<'PY'
import json, os, subprocess, sys
flows_file, run_status, prefix, out, stop_seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
hubble_counts = dict(l.split() for l in open(sys.argv[6]) if l.strip())
# hubble's -o json: one {"flow": ..., "node_name": ..., "time": ...} per line
flows = [json.loads(l).get("flow", {}) for l in open(flows_file) if l.strip()]

def peer(ep, ip):
    return f"{ep['namespace']}/{ep['pod_name']}" if ep.get("pod_name") else ip

def port(f):
    l4 = f.get("l4", {})
    for proto in ("TCP", "UDP", "SCTP"):
        if proto in l4:
            return l4[proto].get("destination_port", 0)
    return 0

def l7(f):
    return (f.get("Type") or f.get("type")) == "L7"

seen = {}
for f in flows:
    if l7(f):
        continue
    key = (peer(f.get("source", {}), f.get("IP", {}).get("source")),
           peer(f.get("destination", {}), f.get("IP", {}).get("destination")), port(f))
    seen.setdefault(key, set()).add(f.get("verdict"))

# (source, destination, port) -> the verdict the example's policy gives its first packet
expected = [
    ("01 frontend may reach backend", "production/frontend", "production/backend", 8080, "FORWARDED"),
    ("01 others may not", "production/prod-client", "production/backend", 8080, "DROPPED"),
    ("02 api-consumer goes to the L7 proxy", "production/api-consumer", "production/api-server", 80, "REDIRECTED"),
    ("02 others may not", "production/prod-client", "production/api-server", 80, "DROPPED"),
    ("03 DNS to kube-dns goes to the L7 proxy", "data-pipeline/uploader", "kube-system/kube-dns", 53, "REDIRECTED"),
    # 198.51.100.1 is what dnsmasq answers for s3.amazonaws.com (scripts/demo/dns.sh): FORWARDED once the DNS
    # proxy is in the path; 198.51.100.2 is in no allowed answer
    ("03 HTTPS to an address the DNS proxy learned", "data-pipeline/uploader", "198.51.100.1", 443, "FORWARDED"),
    ("03 no HTTPS to names DNS did not return", "data-pipeline/uploader", "198.51.100.2", 443, "DROPPED"),
    ("04 the cluster may reach the database", "production/prod-client", "production/database", 5432, "FORWARDED"),
    ("04 development may not", "development/dev-client", "production/database", 5432, "DROPPED"),
    ("05 producers go to the L7 proxy", "messaging/producer", "messaging/kafka-broker", 9092, "REDIRECTED"),
    ("05 others may not", "messaging/stranger", "messaging/kafka-broker", 9092, "DROPPED"),
    ("07 namespace team=ops may reach backend", "ops/ops-tool", "production/backend", 8080, "FORWARDED"),
    ("07 the world outside 10.0.0.0/8 may not", "198.51.100.1", "production/backend", 9090, "DROPPED"),
]
passed = failed = 0
for name, src, dst, p, verdict in expected:
    got = seen.get((src, dst, p), set())
    # a dropped connection also shows the source's egress letting the SYN out (FORWARDED), so only an
    # allowed connection must be free of drops
    if verdict in got and (verdict == "DROPPED" or "DROPPED" not in got):
        passed += 1
        print(f"ok    {name}: {src} -> {dst}:{p} {verdict}")
    else:
        failed += 1
        print(f"FAIL  {name}: {src} -> {dst}:{p} want {verdict}, saw {sorted(got) or 'no flow'}")

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1; print(f"ok    {name}")
    else:
        failed += 1; print(f"FAIL  {name} {detail}")

# L7: each request judged by the node's proxies (scripts/demo/*.sh send them)
def requests(kind, match):
    return {f.get("verdict") for f in flows if l7(f) and f.get("l7", {}).get("type") == "REQUEST"
            and kind in f.get("l7", {}) and match(f["l7"][kind])}

for name, kind, match, verdict in [
    ("02 GET /api/users passes the HTTP proxy", "http", lambda h: h.get("method") == "GET" and h.get("url", "").endswith("/api/users"), "FORWARDED"),
    ("02 DELETE /api/users is refused by the HTTP proxy", "http", lambda h: h.get("method") == "DELETE", "DROPPED"),
    ("03 s3.amazonaws.com is resolved through the DNS proxy", "dns", lambda d: d.get("query") == "s3.amazonaws.com.", "FORWARDED"),
    ("03 evil.example.org is refused by the DNS proxy", "dns", lambda d: d.get("query") == "evil.example.org.", "DROPPED"),
    ("14b gRPC Inventory/GetItem passes the HTTP/2 proxy", "http", lambda h: h.get("protocol") == "HTTP/2" and h.get("url", "").endswith("/sieve.demo.Inventory/GetItem"), "FORWARDED"),
    ("14b gRPC Inventory/DeleteItem is refused by the HTTP/2 proxy", "http", lambda h: h.get("protocol") == "HTTP/2" and h.get("url", "").endswith("/sieve.demo.Inventory/DeleteItem"), "DROPPED"),
    ("05 produce to payments passes the Kafka proxy", "kafka", lambda k: k.get("api_key") == "produce" and k.get("topic") == "payments", "FORWARDED"),
    # the producer asks for orders' metadata first, and is refused there
    ("05 the producer is refused topic orders by the Kafka proxy", "kafka", lambda k: k.get("topic") == "orders", "DROPPED"),
]:
    got = requests(kind, match)
    check(f"{name}: {verdict}", verdict in got, f"saw {sorted(v for v in got if v) or 'no flow'}")

grpc_client = open(sys.argv[7]).read()
check("14b the gRPC client's GetItem calls succeed", "GetItem: OK" in grpc_client, repr(grpc_client[-300:]))
check("14b the gRPC client sees DeleteItem as PERMISSION_DENIED", "DeleteItem: PERMISSION_DENIED Access denied" in grpc_client, repr(grpc_client[-300:]))

if hubble_counts:
    for p in ("http", "dns", "kafka"):
        n = int(hubble_counts.get(p, 0))
        check(f"the stock hubble shows {p} refusals through the relay ({n} of the last 20)", n > 0)
else:
    print("skip  the stock hubble is not beside the checkout (../shared/tools/hubble)")

check(f"make run stopped on Ctrl-C and tore down in {stop_seconds} s", run_status == 130, f"(exit {run_status}; 130 expected)")
left = [l for l in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines() if f"sieve-{prefix}-" in l]
check("teardown removed every namespace", not left, str(left))
check("teardown removed the pinned maps", not os.path.exists(f"/sys/fs/bpf/sieve/{prefix}"))
check("teardown removed the agent's state (/run/sieve)", not os.path.exists(f"/run/sieve/{prefix}"))
print(f"run scenario: {len(flows)} flows from the relay")
print(f"{passed} passed, {failed} failed")
if out:
    open(out, "w").write(f"{passed} {failed}\n")
sys.exit(1 if failed else 0)
PY
