#!/usr/bin/env bash
# The local stack: MariaDB and PostgreSQL (started when down), a Temporal dev server with
# the Web UI and bqsync's search attributes, and the BigQuery emulator.
#   scripts/stack.sh up | down | restart | restart-emulator | status
# BQSYNC_STACK=test with other ports runs a second stack beside the first (the tests do).
# `up` reuses what already listens on the ports; `restart` stops this stack's processes and
# starts fresh ones (the tests: a stack left by an aborted run holds its old workflows).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p "$BQSYNC_RUN"

databases_up() {
  if ! mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping >/dev/null 2>&1; then
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB 60 mariadb-admin --protocol=tcp -h127.0.0.1 -uroot ping
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    wait_for PostgreSQL 60 pg_isready -h 127.0.0.1 -p 5432 -q
  fi
}

# bqsync's search attributes, as common/search-attributes.ts names them (built into dist/).
search_attribute_args() {
  [[ -f dist/common/search-attributes.js ]] || npm run --silent build >/dev/null
  node -e 'for (const n of require("./dist/common/search-attributes").searchAttributeNames) console.log(`--search-attribute ${n}=Keyword`)'
}

temporal_up() {
  if port_open "$TEMPORAL_PORT"; then return; fi
  log "starting the Temporal dev server on 127.0.0.1:$TEMPORAL_PORT (Web UI on http://127.0.0.1:$TEMPORAL_UI_PORT)"
  local db_args=(--db-filename "$BQSYNC_RUN/temporal.db")
  [[ "${BQSYNC_TEMPORAL_IN_MEMORY:-}" == 1 ]] && db_args=()
  nohup temporal server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --http-port "$((TEMPORAL_PORT + 10000))" --metrics-port "$((TEMPORAL_PORT + 20000))" \
    "${db_args[@]}" --log-level warn --namespace default \
    --dynamic-config-value system.enableActivityEagerExecution=true \
    $(search_attribute_args) \
    >"$BQSYNC_RUN/temporal.log" 2>&1 &
  echo $! >"$BQSYNC_RUN/temporal.pid"
  wait_for "Temporal" 60 temporal operator cluster health --address "127.0.0.1:$TEMPORAL_PORT"
}

bigquery_up() {
  if port_open "$BIGQUERY_PORT"; then return; fi
  log "starting the BigQuery emulator on http://127.0.0.1:$BIGQUERY_PORT (project $BIGQUERY_PROJECT, in memory)"
  nohup bigquery-emulator --project "$BIGQUERY_PROJECT" --host 127.0.0.1 --port "$BIGQUERY_PORT" \
    --grpc-port "$BIGQUERY_GRPC_PORT" --log-level error >>"$BQSYNC_RUN/bigquery.log" 2>&1 &
  echo $! >"$BQSYNC_RUN/bigquery.pid"
  wait_for "the BigQuery emulator" 60 curl -sf "http://127.0.0.1:$BIGQUERY_PORT/bigquery/v2/projects/$BIGQUERY_PROJECT/datasets"
}

stop() {
  local pidfile="$BQSYNC_RUN/$1.pid"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  # Gone before returning, so that an `up` right after finds its ports free.
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-up}" in
  up)
    databases_up
    temporal_up
    bigquery_up
    ;;
  down)
    stop temporal
    stop bigquery
    ;;
  restart)
    stop temporal
    stop bigquery
    rm -f "$BQSYNC_RUN/bigquery.log" # appended to by restart-emulator, so that a test's faults stay readable
    for port in "$TEMPORAL_PORT" "$BIGQUERY_PORT"; do
      if port_open "$port"; then
        log "port $port is taken by a process that $BQSYNC_RUN does not know; stop it, or use other ports"
        exit 1
      fi
    done
    databases_up
    temporal_up
    bigquery_up
    ;;
  restart-emulator)
    # An empty emulator, so that no integration file meets another's tables (each starts with one).
    stop bigquery
    if port_open "$BIGQUERY_PORT"; then
      log "port $BIGQUERY_PORT is taken by a process that $BQSYNC_RUN does not know; stop it, or use other ports"
      exit 1
    fi
    bigquery_up
    ;;
  status)
    port_open "$TEMPORAL_PORT" && echo "temporal: up on $TEMPORAL_PORT" || echo "temporal: down"
    port_open "$BIGQUERY_PORT" && echo "bigquery emulator: up on $BIGQUERY_PORT" || echo "bigquery emulator: down"
    ;;
  *) echo "usage: $0 up|down|restart|restart-emulator|status" >&2; exit 2 ;;
esac
