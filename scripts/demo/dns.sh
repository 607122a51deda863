# DNS and toFQDNs (03-allow-s3-egress): a real dnsmasq in the kube-dns pod, and the uploader resolving names and
# connecting to what they resolve to. Sourced by scripts/run.sh (uses ns, log, pids, $work).
#
# Names (world hosts of the lab: world1 198.51.100.1 / 2001:db8:51::1, world2 198.51.100.2 is never named):
#   s3.amazonaws.com, api.example.com          allowed by 03 (matchPattern *.amazonaws.com, matchName api.example.com)
#   bucket.s3.amazonaws.com                    refused: * in a pattern stands for one label only (Cilium's rule)
#   evil.example.org                           refused: no DNS rule allows it
# With the DNS proxy in the path, allowed answers teach the datapath the addresses (toFQDNs), so the uploader's
# 443 connections to them are FORWARDED while 198.51.100.2 (never in an answer) is DROPPED; refused names get
# REFUSED. `bin/sieve observe --protocol dns` and `bin/sieve fqdn cache list` show it.

dns_server=10.244.4.10
ip netns exec "$(ns kube-dns)" dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll --bind-interfaces \
  --listen-address="$dns_server" --port=53 --pid-file= --user=root --local-ttl=30 --log-queries \
  --log-facility="$work/dnsmasq.log" \
  --host-record=s3.amazonaws.com,198.51.100.1,2001:db8:51::1 \
  --host-record=bucket.s3.amazonaws.com,198.51.100.1 \
  --host-record=api.example.com,198.51.100.1 \
  --host-record=evil.example.org,198.51.100.2 >/dev/null 2>&1 </dev/null &
pids+=($!)
ip netns exec "$(ns world1)" nc -lk -p 443 >/dev/null 2>&1 </dev/null &
pids+=($!)
ip netns exec "$(ns world2)" nc -lk -p 443 >/dev/null 2>&1 </dev/null &
pids+=($!)

dns_traffic() {
  local up; up=$(ns uploader)
  while true; do
    for name in s3.amazonaws.com api.example.com; do
      for ip in $(ip netns exec "$up" dig @"$dns_server" +short +tries=1 +time=1 "$name" A 2>/dev/null | grep -E '^[0-9.]+$'); do
        ip netns exec "$up" nc -z -w 1 "$ip" 443 >/dev/null 2>&1 || true    # 03: FORWARDED once learned
      done
    done
    ip netns exec "$up" dig @"$dns_server" +short +tries=1 +time=1 s3.amazonaws.com AAAA >/dev/null 2>&1 || true
    ip netns exec "$up" dig @"$dns_server" +tcp +short +tries=1 +time=1 api.example.com A >/dev/null 2>&1 || true
    ip netns exec "$up" dig @"$dns_server" +tries=1 +time=1 evil.example.org A >/dev/null 2>&1 || true        # REFUSED
    ip netns exec "$up" dig @"$dns_server" +tries=1 +time=1 bucket.s3.amazonaws.com A >/dev/null 2>&1 || true # REFUSED
    ip netns exec "$up" nc -z -w 1 198.51.100.2 443 >/dev/null 2>&1 || true   # DROPPED: no answer named it
    sleep 1
  done
}
dns_traffic &
pids+=($!)
log "== dns: dnsmasq in kube-dns ($dns_server:53), the uploader resolving and connecting (scripts/demo/dns.sh)"
