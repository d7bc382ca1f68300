#!/usr/bin/env bash
# The whole local demo in one command: install, start the stack, seed 124 tables of
# varied types in MariaDB and PostgreSQL (one of 1,000,000 rows each), start a worker and
# run the nightly sync to the end. The stack stays up afterwards for the Web UI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
bash scripts/stack.sh up
source scripts/lib.sh
node dist/demo/seed.js --database bqsync_demo --tables "${BQSYNC_DEMO_TABLES:-124}" --big-rows "${BQSYNC_DEMO_BIG_ROWS:-1000000}"

log "starting a worker (log: $BQSYNC_RUN/worker.log)"
node dist/client/cli.js worker >"$BQSYNC_RUN/worker.log" 2>&1 &
worker=$!
trap 'kill -TERM $worker 2>/dev/null; wait $worker 2>/dev/null || true' EXIT
wait_for "the worker" 60 grep -q "state: 'RUNNING'" "$BQSYNC_RUN/worker.log"

started=$SECONDS
status=0
node dist/client/cli.js run nightly --wait || status=$?
peak="$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$worker/status" 2>/dev/null || echo unknown)"
log "nightly sync finished in $((SECONDS - started))s; worker peak memory (RSS) $peak"
log "Temporal Web UI: http://127.0.0.1:$TEMPORAL_UI_PORT/namespaces/default/workflows"
log "stop the stack with: bash scripts/stack.sh down"
exit $status
