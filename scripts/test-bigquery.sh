#!/usr/bin/env bash
# The opt-in suite: the type round trip, the load-mode and the cursor tests against a real BigQuery
# project instead of the emulator, for what the emulator cannot show (gzip loads, schema
# changes on existing tables, BYTES, NaN and Infinity, partitioning and clustering).
#   BQSYNC_REAL_BIGQUERY=my-project [BQSYNC_REAL_BIGQUERY_LOCATION=US] \
#   GOOGLE_APPLICATION_CREDENTIALS=key.json npm run test:bigquery
# It creates datasets named it_* in that project and leaves them for inspection.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BQSYNC_REAL_BIGQUERY:-}" ]]; then
  echo "test:bigquery: set BQSYNC_REAL_BIGQUERY to the GCP project to test against" >&2
  exit 2
fi
if [[ -z "${GOOGLE_APPLICATION_CREDENTIALS:-}" && ! -f "$HOME/.config/gcloud/application_default_credentials.json" ]]; then
  echo "test:bigquery: no credentials: set GOOGLE_APPLICATION_CREDENTIALS or run 'gcloud auth application-default login'" >&2
  exit 2
fi
exec bash scripts/test.sh test/integration/types.test.ts test/integration/load-modes.test.ts test/integration/cursors.test.ts "$@"
