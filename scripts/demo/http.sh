# HTTP (02-api-http-filter): a real HTTP/1.1 server on the api-server (10.244.1.30:80) and, each second,
# requests the policy allows and denies from the api-consumer, plus the prod-client, which L3/L4 drops.
#   allowed: GET /api/users, POST /api/submit with "X-App-Token: .*" (Cilium matches header values exactly:
#            the seed's rule wants the literal value ".*")
#   denied (403 Access denied by the proxy): DELETE /api/users, POST /api/submit without the header or with
#            another value, GET /admin
# Sourced by scripts/run.sh (uses ns, pids, work, log).
http_api=10.244.1.30
ip netns exec "$(ns api-server)" python3 scripts/demo/http_server.py 80 >"$work/http-server.log" 2>&1 &
pids+=($!)

http_demo() {
  local c=(curl -s -o /dev/null -m 2 -w '%{http_code}')
  while true; do
    ip netns exec "$(ns api-consumer)" "${c[@]}" "http://$http_api/api/users" >/dev/null || true
    ip netns exec "$(ns api-consumer)" "${c[@]}" -X DELETE "http://$http_api/api/users" >/dev/null || true
    ip netns exec "$(ns api-consumer)" "${c[@]}" -X POST -H 'X-App-Token: .*' -d '{"n":1}' "http://$http_api/api/submit" >/dev/null || true
    ip netns exec "$(ns api-consumer)" "${c[@]}" -X POST -d '{"n":1}' "http://$http_api/api/submit" >/dev/null || true
    ip netns exec "$(ns api-consumer)" "${c[@]}" -X POST -H 'X-App-Token: secret' -d '{"n":1}' "http://$http_api/api/submit" >/dev/null || true
    ip netns exec "$(ns api-consumer)" "${c[@]}" "http://$http_api/admin" >/dev/null || true
    ip netns exec "$(ns prod-client)" "${c[@]}" -m 1 "http://$http_api/api/users" >/dev/null || true
    sleep 1
  done
}
http_demo &
pids+=($!)
log "== http: api-server 10.244.1.30:80 (python3), api-consumer and prod-client requests each second;"
log "   sieve observe --protocol http --verdict DROPPED shows the denied ones"
