#!/usr/bin/env bash
# Installs what Coffer's tests need on a Debian machine and runs the whole test suite:
# Debian packages (restic is the test oracle; mydumper and mariadb-backup are peers; chromium
# drives the console's browser tests), the local MariaDB and PostgreSQL services, npm
# packages, then build, lint, `npm test` and the console's tests (`npm run test:web`). Pass
# --slow to also run the long suite.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(restic mydumper mariadb-backup mariadb-client chromium util-linux attr)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash scripts/start-services.sh

npm ci --no-audit --no-fund
npm run build
npm run build:web
npm run lint
npm run typecheck
npm run typecheck:web
npm test
# The console: component tests and end-to-end tests in Debian's chromium.
npm run test:web
if [ "${1:-}" = "--slow" ]; then
  # The repository suite again, on S3 (s3rver over HTTPS), then the long suite.
  npm run test:s3
  npm run test:slow
fi
