# Shared settings of the local stack scripts. Tools and state live outside the checkout,
# so that fresh clones (and CI) reuse the built binaries.
BQSYNC_CACHE="${BQSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bqsync}"
BQSYNC_BIN="$BQSYNC_CACHE/bin"
# A stack name keeps a test stack apart from the demo stack (own ports, own state).
BQSYNC_STACK="${BQSYNC_STACK:-local}"
BQSYNC_RUN="$BQSYNC_CACHE/run-$BQSYNC_STACK"
TEMPORAL_PORT="${BQSYNC_TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${BQSYNC_TEMPORAL_UI_PORT:-8233}"
BIGQUERY_PORT="${BQSYNC_BIGQUERY_PORT:-9050}"
BIGQUERY_GRPC_PORT="${BQSYNC_BIGQUERY_GRPC_PORT:-9060}"
BIGQUERY_PROJECT="${BQSYNC_BIGQUERY_PROJECT:-bqsync-local}"
TEMPORAL_CLI_VERSION=v1.5.1
BIGQUERY_EMULATOR_VERSION=v0.8.1
export PATH="$BQSYNC_BIN:$PATH"

log() { printf '[bqsync] %s\n' "$*" >&2; }

# Waits until a command succeeds, or fails after the given seconds.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then log "$what did not come up within ${seconds}s"; return 1; fi
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Installs the npm dependencies of the package in $1 (. or deploy) when its lock file
# changed since the last install. Compares contents, not file times: a fresh checkout's
# lock file is always newer than an install made before it.
npm_install_if_changed() {
  local dir="$1" stamp="$1/node_modules/.bqsync-lock-sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -d "$dir/node_modules" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return; fi
  log "installing npm dependencies${2:+ ($2)}"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
}
