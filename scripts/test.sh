#!/usr/bin/env bash
# Runs every test against the real stack: installs and builds what is missing, then jest.
# The tests start their own Temporal dev server and emulator (test/global-setup.ts) on
# ports apart from the demo stack's, and use MariaDB and PostgreSQL (started when down).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
source scripts/lib.sh
# The CDK app (deploy/) is its own package, so that the image build never installs aws-cdk-lib.
if [[ ! -d deploy/node_modules || deploy/package-lock.json -nt deploy/node_modules/.package-lock.json ]]; then
  log "installing the CDK app's npm dependencies (deploy/)"
  npm ci --prefix deploy --no-audit --no-fund --loglevel=error
fi
# The BigQuery client loads node-fetch as an ES module, which jest's VM allows only so.
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"
exec npx --no-install jest "$@"
