#!/usr/bin/env bash
# Installs what the local stack needs, when missing: the Temporal CLI (dev server with the
# Web UI), the BigQuery emulator, Debian's pgbouncer (the PostgreSQL pooler tests start
# their own), the npm dependencies and the build.
#   --unit  only what `npm run test:unit` needs: the Temporal CLI and the npm dependencies
set -euo pipefail
unit_only=false
[[ "${1:-}" == --unit ]] && unit_only=true
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p "$BQSYNC_BIN"

need_go() {
  command -v go >/dev/null || { log "Go is needed to build $1; install Go 1.22+ (https://go.dev/dl) or put $1 on PATH"; exit 1; }
}

if ! command -v temporal >/dev/null; then
  need_go temporal
  log "installing the Temporal CLI $TEMPORAL_CLI_VERSION into $BQSYNC_BIN"
  GOBIN="$BQSYNC_BIN" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi

# The emulator is built from the pinned release with scripts/bigquery-emulator-lazy-jobs.patch
# (jobs read when a request names them, not all of them on every request); the stamp beside
# the binary names the release and the patch it was built from, so a change rebuilds it.
emulator_patch=scripts/bigquery-emulator-lazy-jobs.patch
emulator_build="$BIGQUERY_EMULATOR_VERSION $(sha256sum "$emulator_patch" | cut -c1-16)"
if ! $unit_only && [[ ! -x "$BQSYNC_BIN/bigquery-emulator" || "$(cat "$BQSYNC_BIN/bigquery-emulator.build" 2>/dev/null)" != "$emulator_build" ]]; then
  need_go bigquery-emulator
  # Built inside a scratch module: `go install pkg@version` asks the proxy for the module's
  # version list, which it refuses for this module. Takes minutes and ~6 GiB of memory.
  log "building the BigQuery emulator $BIGQUERY_EMULATOR_VERSION into $BQSYNC_BIN (a few minutes)"
  build="$(mktemp -d)"
  patch_file="$PWD/$emulator_patch"
  (
    cd "$build"
    go mod init bqsync-emulator-build >/dev/null 2>&1
    printf '//go:build tools\npackage tools\nimport _ "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator"\n' > tools.go
    go get "github.com/goccy/bigquery-emulator/cmd/bigquery-emulator@$BIGQUERY_EMULATOR_VERSION"
    # The module cache is read-only: the patched copy is a module of its own, put in its place.
    cp -r "$(go list -m -f '{{.Dir}}' github.com/goccy/bigquery-emulator)" emulator
    chmod -R u+w emulator
    (cd emulator && git apply "$patch_file")
    go mod edit -replace github.com/goccy/bigquery-emulator=./emulator
    go build -o "$BQSYNC_BIN/bigquery-emulator" github.com/goccy/bigquery-emulator/cmd/bigquery-emulator
  )
  rm -rf "$build"
  echo "$emulator_build" >"$BQSYNC_BIN/bigquery-emulator.build"
fi

# PgBouncer for test/integration/postgres-hostile-settings.test.ts; apt-get as root, else
# through sudo when it asks for no password.
if ! $unit_only && ! command -v pgbouncer >/dev/null && [[ ! -x /usr/sbin/pgbouncer ]]; then
  sudo_cmd=""
  [[ "$(id -u)" == 0 ]] || sudo_cmd="sudo -n"
  log "installing pgbouncer (apt-get)"
  if ! { DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends pgbouncer >&2 ||
         { $sudo_cmd apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends pgbouncer >&2; }; }; then
    log "could not install pgbouncer; run 'apt-get install -y pgbouncer' as root (the PgBouncer test needs it)"
  fi
fi

npm_install_if_changed .

if ! $unit_only && [[ ! -f dist/client/cli.js || -n "$(find common sources bigquery workflows activities worker client config demo bench -newer dist/client/cli.js -name '*.ts' 2>/dev/null | head -1)" || ! -f dist/worker/workflow-bundle.js ]]; then
  log "building"
  npm run --silent build >/dev/null
fi
