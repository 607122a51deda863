#!/usr/bin/env bash
# Whole-process datapath benchmark (run by scripts/bench.sh with the results dir as $1; needs root): two lab pods,
# one run, and in it: no program; this version's programs at 10 / 1,000 / 10,000 policy entries (bpf delivery, the
# default); the previous version's programs (PREVIOUS_REV, default a96e5ab = main before this round; built from git
# with clang) on the same maps at the same sizes; stack delivery at 10 entries; iptables FORWARD rules of the same
# sizes. Per configuration: TCP throughput (iperf3), TCP_RR, TCP_CRR (new connections) and the programs' own ns per
# run under TCP_RR and iperf3 (kernel BPF stats of exactly these programs). Then per size the paired A/Bs against no
# program (TCP_RR: PAIRS pairs of 1 s; throughput: STREAM_PAIRS pairs of 0.5 s segments of one iperf3 stream) and the
# interleaved program-cost A/B previous vs this (COST_PAIRS pairs of 1 s TCP_RR windows, at COST_SIZES entries). Writes $1/datapath.json and
# the log $1/datapath.txt. About 12 minutes on the idle 2-vCPU machine; QUICK=1 (none, sieve-10000 and
# previous-10000, fewer pairs) about 4. REPS / SECONDS_PER_RUN / PAIRS / STREAM_PAIRS / COST_PAIRS / CONFIGS
# (e.g. none,sieve-10000,previous-10000) tune it; PREVIOUS_BPF=path uses a ready object instead of building
# PREVIOUS_REV; PREVIOUS_REV= (empty) leaves the previous version out; VERBOSE=true prints every pair.
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
if [ "${QUICK:-0}" = 1 ]; then
  : "${CONFIGS:=none,sieve-10000,previous-10000}" "${REPS:=2}" "${PAIRS:=10}" "${STREAM_PAIRS:=20}" "${COST_PAIRS:=10}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp_file=$work/classpath
JAVA_HOME=$java_home "$mvn" -B -ntp -q -o -f enforcer/pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
previous=${PREVIOUS_BPF:-}
previous_rev=${PREVIOUS_REV-a96e5ab}
if [ -z "$previous" ] && [ -n "$previous_rev" ]; then
  # the previous version's programs, compiled from git as enforcer/pom.xml compiles this one's
  mkdir -p "$work/prev/include"
  git show "$previous_rev:bpf/sieve.bpf.c" > "$work/prev/sieve.bpf.c"
  git show "$previous_rev:bpf/include/sieve_maps.h" > "$work/prev/include/sieve_maps.h"
  clang -target bpf -O2 -g -Wall -Werror -I"$work/prev/include" -I"/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)" \
    -c "$work/prev/sieve.bpf.c" -o "$work/prev-$previous_rev.bpf.o"
  previous=$work/prev-$previous_rev.bpf.o
fi
mkdir -p "$results"
start=$(date +%s)
"$java_home/bin/java" --enable-native-access=ALL-UNNAMED -Dbench.pairs="${PAIRS:-16}" \
  -Dbench.verbose="${VERBOSE:-false}" -Dbench.stream.pairs="${STREAM_PAIRS:-32}" -Dbench.cost.pairs="${COST_PAIRS:-20}" -Dbench.cost.sizes="${COST_SIZES:-10000}" \
  -Dbench.previous.object="$previous" \
  -cp "enforcer/target/classes:enforcer/target/test-classes:$(cat "$cp_file")" \
  dev.sieve.enforcer.bench.DatapathBench "$results/datapath.json" "${REPS:-2}" "${SECONDS_PER_RUN:-2}" ${CONFIGS:+"$CONFIGS"} \
  | tee "$results/datapath.txt"
echo "bench-datapath: $(( $(date +%s) - start )) s (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$results/datapath.txt"
