#!/usr/bin/env bash
# The web UI's browser tests (ui/test/*.test.mjs, node's test runner): Debian's chromium driven by
# playwright-core against a real bin/sieve-relay fed over the ingest gRPC. Needs a built relay (with the UI).
# Writes ui/target/surefire-reports/TEST-ui.xml (counted by scripts/test.sh's summary); screenshots in
# ui/target/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIEVE_CLI_DAEMON=0 # the tests' bin/sieve calls each in its own JVM: no CLI daemon outlives them
if [ ! -x /usr/bin/chromium ]; then
  echo "test-ui: installing chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
scripts/build-ui.sh
reports=ui/target/surefire-reports
rm -rf "$reports" && mkdir -p "$reports"
status=0
(cd ui && node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination=target/node-junit.xml test/*.test.mjs) || status=$?
# one <testsuite> with the totals, as Surefire writes them
python3 - ui/target/node-junit.xml "$reports/TEST-ui.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter("testcase"))
failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
skipped = sum(1 for c in cases if c.find("skipped") is not None)
suite = ET.Element("testsuite", name="ui", tests=str(len(cases)), failures=str(failed), errors="0", skipped=str(skipped))
suite.extend(cases)
ET.ElementTree(suite).write(sys.argv[2], encoding="utf-8", xml_declaration=True)
print(f"ui: {len(cases) - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit $status
