#!/usr/bin/env bash
# `make run` for this stage of Sieve: the policy engine on the seed examples. It validates every example,
# then traces the seed's scenarios and prints the verdicts with the policies that decided them.
# (The node agent, relay and lab join `make run` as they land; see README.)
set -euo pipefail
cd "$(dirname "$0")/.."
sieve=bin/sieve
ex=examples
cluster=$ex/cluster
p() { echo "$ex/policies/$1"; }

echo "== sieve policy validate $ex/"
$sieve policy validate "$ex/"
echo
trace() {
  local file=$1; shift
  echo "== sieve policy trace -f $cluster $(p "$file") $*"
  $sieve policy trace -f "$cluster" "$(p "$file")" "$@" | sed -n '1p;/^  egress/p;/^  ingress/p;/^  l7/p'
  echo
}
trace 01-allow-frontend-to-backend.yaml --from production/frontend --to production/backend --dport 8080/TCP
trace 01-allow-frontend-to-backend.yaml --from production/prod-client --to production/backend --dport 8080/TCP
trace 02-api-http-filter.yaml --from production/api-consumer --to production/api-server --dport 80 --http-method GET --http-path /api/orders
trace 02-api-http-filter.yaml --from production/api-consumer --to production/api-server --dport 80 --http-method DELETE --http-path /api/orders
trace 03-allow-s3-egress.yaml --from data-pipeline/uploader --to kube-system/kube-dns --dport 53/UDP --dns-query bucket.amazonaws.com
trace 03-allow-s3-egress.yaml --from data-pipeline/uploader --to fqdn:bucket.amazonaws.com=52.216.0.10 --dport 443
trace 03-allow-s3-egress.yaml --from data-pipeline/uploader --to ip:198.51.100.7 --dport 443
trace 04-deny-dev-to-prod-db.yaml --from production/prod-client --to production/database --dport 5432
trace 04-deny-dev-to-prod-db.yaml --from development/dev-client --to production/database --dport 5432
trace 05-kafka-topic-control.yaml --from messaging/producer --to messaging/kafka-broker --dport 9092 --kafka-api-key produce --kafka-topic payments
trace 05-kafka-topic-control.yaml --from messaging/consumer --to messaging/kafka-broker --dport 9092 --kafka-api-key produce --kafka-topic payments
trace 06-baseline-clusterwide.yaml --from production/frontend --to entity:kube-apiserver --dport 443
trace 06-baseline-clusterwide.yaml --from production/frontend --to ip:203.0.113.5 --dport 443
trace 07-k8s-networkpolicy.yaml --from ops/ops-tool --to production/backend --dport 8080
trace 07-k8s-networkpolicy.yaml --from ip:10.2.3.4 --to production/backend --dport 9092
trace 07-k8s-networkpolicy.yaml --from ip:10.1.3.4 --to production/backend --dport 9092
echo "Try your own: $sieve policy trace --help"
