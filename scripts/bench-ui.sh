#!/usr/bin/env bash
# The web UI in chromium (ui/test/perf.mjs): first render of each view, 100,000 flows loaded and scrolled, live
# at 1,000 flows/s, a map of 500 workloads / 2,000 edges; no main-thread task over 50 ms is the goal. The UI of
# SIEVE_UI_BASELINE (default a96e5ab, the UI before this round: policies without selections, serial start-up, the big map in one task) is built
# into a temporary folder and measured in the same run, against the same relay and flows.
# Writes bench/results/ui.json. Needs a built relay (make build). Takes 5-10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${1:-bench/results}
baseline=${SIEVE_UI_BASELINE:-a96e5ab}
scripts/build-ui.sh
tmp=$(mktemp -d /tmp/sieve-ui-baseline.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if git cat-file -e "$baseline^{commit}" 2>/dev/null; then
  git archive "$baseline" ui | tar -x -C "$tmp"
  ln -s "$PWD/ui/node_modules" "$tmp/ui/node_modules"
  (cd "$tmp/ui" && npx --no-install vite build --logLevel warn --outDir "$tmp/dist" >/dev/null)
  export SIEVE_UI_BASELINE_DIST="$tmp/dist" SIEVE_UI_BASELINE_REF="$baseline"
else
  echo "bench-ui: baseline $baseline is not a commit here; measuring the current UI only" >&2
fi
node ui/test/perf.mjs
[ "$results" = bench/results ] || cp bench/results/ui.json "$results/ui.json"
