#!/usr/bin/env bash
# The benchmark suite (bench/run.ts): installs and builds what is missing, starts the
# databases, then generates the data and measures; results go to bench/results.md.
#   npm run bench [-- --rows 1000000 --concurrency 4 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
source scripts/lib.sh
# The benchmark's own stack: its ports are those of bench/stack.ts.
BQSYNC_STACK=bench BQSYNC_TEMPORAL_PORT=7277 BQSYNC_TEMPORAL_UI_PORT=8277 BQSYNC_BIGQUERY_PORT=9177 \
  BQSYNC_BIGQUERY_GRPC_PORT=9187 BQSYNC_BIGQUERY_PROJECT=bqsync-bench BQSYNC_TEMPORAL_IN_MEMORY=1 bash scripts/stack.sh up
exec node dist/bench/run.js "$@"
