#!/usr/bin/env bash
# Builds the web UI (ui/ -> ui/dist, which the relay's Maven build copies into its META-INF/resources).
# Idempotent: `npm ci` only when package-lock.json changed since the last install, `vite build` only
# when a source is newer than ui/dist. Needs Node >= 20.19 with npm (scripts/install-deps.sh installs nodejs).
set -euo pipefail
cd "$(dirname "$0")/../ui"
if ! command -v npm >/dev/null; then
  echo "build-ui: installing npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm >/dev/null
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { echo "build-ui: Node $(node --version) is too old for Vite 8 (want >= 20.19)" >&2; exit 1; }
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.sieve-lock-sha256 2>/dev/null)" != "$lock_sum" ]; then
  echo "build-ui: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.sieve-lock-sha256
fi
if [ ! -f dist/index.html ] || [ -n "$(find src index.html vite.config.ts tsconfig.json package-lock.json -newer dist/index.html -print -quit)" ]; then
  echo "build-ui: vite build"
  npx --no-install tsc --noEmit
  npx --no-install vite build --logLevel warn
fi
