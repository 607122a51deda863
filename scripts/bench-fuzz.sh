#!/usr/bin/env bash
# Fuzzing (Jazzer, coverage-guided libFuzzer) of every parser that takes outside bytes, each for FUZZ_SECONDS
# (default 60; make test gives each 4 s). Writes $1/fuzz.json (default bench/results): per parser the inputs run,
# inputs per second, how many the parser refused with its own error, and the crashes (a finding fails its test and
# Jazzer saves the input under fuzz/src/test/resources/.../<Test>Inputs/, where it stays as a regression test).
# Takes about 6 x (FUZZ_SECONDS + 30 s start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
mkdir -p "$results"
java_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
mvn=${MVN:-.build/apache-maven-3.9.11/bin/mvn}
seconds=${FUZZ_SECONDS:-60}
rm -rf fuzz/target/fuzz-stats fuzz/target/surefire-reports
# -am: this tree's modules, not other trees' SNAPSHOTs in ~/.m2; -Dtest keeps the other modules' tests out
JAVA_HOME=$java_home "$mvn" -B -ntp -q -pl fuzz -am test -Dtest='*FuzzTest' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfuzz.seconds="$seconds" -Dmaven.test.failure.ignore=true >fuzz/target/bench-fuzz.log 2>&1 || true
python3 - "$results/fuzz.json" "$seconds" <<'PY'
import glob, json, re, sys, os
out, seconds = sys.argv[1], int(sys.argv[2])
parsers = []
for f in sorted(glob.glob("fuzz/target/fuzz-stats/*.json")):
    parsers.append(json.load(open(f)))
crashes = {}
for f in glob.glob("fuzz/target/surefire-reports/TEST-*.xml"):
    x = open(f).read()
    name = re.search(r'testsuite [^>]*name="([^"]+)"', x).group(1).split(".")[-1]
    crashes[name] = len(re.findall(r"<(failure|error)\b", x))
for p in parsers:
    cls = {"policy-manifest": "PolicyManifestFuzzTest", "ring-buffer-event": "VerdictEventFuzzTest", "ingest-batch": "IngestBatchFuzzTest",
           "grpc-flow-filter": "FlowFilterFuzzTest", "rest-query": "RestQueryFuzzTest", "spool-record": "SpoolRecordFuzzTest"}.get(p["parser"], "")
    p["test"] = cls
    p["crashes"] = crashes.get(cls, 0)
doc = {"fuzzer": "Jazzer 0.30.0 (JUnit @FuzzTest, libFuzzer)", "seconds_per_parser": seconds,
       "total_crashes": sum(p["crashes"] for p in parsers), "parsers": parsers,
       "load_average": os.getloadavg()[0]}
json.dump(doc, open(out, "w"), indent=2)
print(json.dumps(doc, indent=2))
PY
