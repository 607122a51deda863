#!/usr/bin/env bash
# `make bench`: every benchmark, figures printed and written to bench/results/.
# JMH for in-process code; whole-process comparisons for the datapath (when built).
set -euo pipefail
cd "$(dirname "$0")/.."
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
results=bench/results
mkdir -p "$results"

echo "== policy engine (JMH): full computation 1,000 endpoints x 2,000 rules, incremental pod label change, trace"
"$java_home/bin/java" -jar bench/target/benchmarks.jar PolicyEngineBenchmark \
  -rf json -rff "$results/policy-engine.json" ${JMH_FLAGS:-} | tee "$results/policy-engine.txt" | sed -n '/^Benchmark/,$p'

for extra in scripts/bench-*.sh; do
  [ -x "$extra" ] || continue
  echo "== $(basename "$extra" .sh)"
  "$extra" "$results"
done
echo "results in $results/"
