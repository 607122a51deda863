#!/usr/bin/env bash
# Whole-process datapath benchmark (run by scripts/bench.sh with the results dir as $1; needs root):
# TCP throughput (iperf3), TCP_RR and TCP_CRR between two lab pods with no program, Sieve's programs
# at 10 / 1,000 / 10,000 policy entries, and iptables FORWARD rules of the same sizes; then ring
# buffer -> decoded Java events; the paired detached/attached A/B per size (PAIRS TCP_RR pairs, PAIRS/2 throughput
# pairs, STREAM_PAIRS pairs of 0.5 s segments of one stream) and the programs' cost per path. Writes $1/datapath.json.
# REPS / SECONDS_PER_RUN / PAIRS / STREAM_PAIRS tune it; CONFIGS=none,sieve-10 runs a subset; VERBOSE=true prints
# every pair of the A/Bs. BASELINE_BPF=path/to/sieve.bpf.o first runs the same benchmark with that object (the
# programs of an earlier version, same Java side; it must carry the same maps) into $1/datapath-baseline.*, so
# before and after come from one run of the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
if [ "$(id -u)" != 0 ]; then
  echo "bench-datapath: needs root (network namespaces, BPF); skipped" >&2
  exit 0
fi
command -v iperf3 >/dev/null || { echo "bench-datapath: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }
if [ ! -d enforcer/target/test-classes/dev/sieve/enforcer/bench ]; then
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -pl enforcer,lab -am install -DskipTests
  JAVA_HOME=$java_home "$mvn" -B -ntp -q -pl enforcer test-compile
fi
cp_file=$(mktemp)
trap 'rm -f "$cp_file"' EXIT
JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f enforcer/pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
mkdir -p "$results"
if [ -n "${BASELINE_BPF:-}" ]; then
  baseline_cp=$(mktemp -d)
  mkdir -p "$baseline_cp/bpf" && cp "$BASELINE_BPF" "$baseline_cp/bpf/sieve.bpf.o"
  "$java_home/bin/java" --enable-native-access=ALL-UNNAMED -Dbench.pairs="${PAIRS:-30}" \
    -Dbench.verbose="${VERBOSE:-false}" -Dbench.stream.pairs="${STREAM_PAIRS:-$((2 * ${PAIRS:-30}))}" \
    -cp "$baseline_cp:enforcer/target/classes:enforcer/target/test-classes:$(cat "$cp_file")" \
    dev.sieve.enforcer.bench.DatapathBench "$results/datapath-baseline.json" "${REPS:-3}" "${SECONDS_PER_RUN:-2}" ${CONFIGS:+"$CONFIGS"} \
    | tee "$results/datapath-baseline.txt"
  rm -rf "$baseline_cp"
fi
"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -Dbench.pairs="${PAIRS:-30}" \
  -Dbench.verbose="${VERBOSE:-false}" -Dbench.stream.pairs="${STREAM_PAIRS:-$((2 * ${PAIRS:-30}))}" \
  -cp "enforcer/target/classes:enforcer/target/test-classes:$(cat "$cp_file")" \
  dev.sieve.enforcer.bench.DatapathBench "$results/datapath.json" "${REPS:-3}" "${SECONDS_PER_RUN:-2}" ${CONFIGS:+"$CONFIGS"} \
  | tee "$results/datapath.txt"
