#!/usr/bin/env bash
# `make test`: builds everything and runs every suite (Maven Surefire per module, then the `make run`
# scenario headless), and ends with one summary line over all of them. Exit status 0 only if all pass.
set -uo pipefail
cd "$(dirname "$0")/.."
mvn=${MVN:?MVN is set by the Makefile}
results=.build/test-results
mkdir -p "$results"
rm -f "$results"/*
rm -rf ui/target/surefire-reports

scripts/build-ui.sh && "$mvn" ${MVN_FLAGS:-} install
maven_status=$?

ui_status=0
if [ "$maven_status" = 0 ]; then
  echo
  echo "== the web UI in chromium"
  scripts/test-ui.sh
  ui_status=$?
fi

run_status=0
if [ "$maven_status" = 0 ]; then
  echo
  echo "== the make run scenario, headless"
  scripts/test-run.sh "$results/run-scenario"
  run_status=$?
fi

python3 - "$results/run-scenario" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
tests = failed = skipped = 0
for f in glob.glob("*/target/surefire-reports/TEST-*.xml"):
    s = ET.parse(f).getroot()
    tests += int(s.get("tests", 0)); skipped += int(s.get("skipped", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
try:
    p, fl = map(int, open(sys.argv[1]).read().split())
    tests += p + fl; failed += fl
except (OSError, ValueError):
    pass
print(f"sieve: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
[ "$maven_status" = 0 ] && [ "$ui_status" = 0 ] && [ "$run_status" = 0 ]
