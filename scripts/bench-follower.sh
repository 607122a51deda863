#!/usr/bin/env bash
# The stuck follower at the issue's scale: a GetFlows --follow client that stops reading for 60 s while 1,000,000
# flows arrive (make test runs 100,000 flows and 2 s). Ingest rate without / with the stuck follower (runs without it
# before and after, averaged), heap held for it (after a full GC, while stalled vs after it is gone), and the
# lost_events it gets. Writes $1/follower.json (default bench/results). Takes about 2-3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
out=$PWD/$results/follower.json
# -am: this tree's modules, not other trees' SNAPSHOTs in ~/.m2; -Dtest keeps every other test out
JAVA_HOME=$java_home "$mvn" -B -ntp -q -pl relay -am test -Dtest=StuckFollowerFaultTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dsieve.stuck.flows="${FOLLOWER_FLOWS:-1000000}" -Dsieve.stuck.stallSeconds="${FOLLOWER_STALL_SECONDS:-60}" \
  -Dsieve.stuck.out="$out" >relay/target/bench-follower.log 2>&1 || { tail -30 relay/target/bench-follower.log; exit 1; }
cat "$out"
