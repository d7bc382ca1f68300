#!/usr/bin/env bash
# Runs the tests: installs and builds what is missing, then jest (projects in jest.config.js).
#
#   scripts/test.sh           every test: first the unit and workflow tests (mocked
#                             activities) and the type check of the tests; then the
#                             integration files in BQSYNC_TEST_SHARDS (3) jest processes at
#                             once, beside the CDK app's deploy tests. Shard i runs on slot
#                             BQSYNC_TEST_SLOT_BASE + i (base 0: slots 1..3): its own
#                             Temporal dev server, emulator and seeded bqsync_test<slot>
#                             databases (test/helpers/env.ts). Files go to the shards by
#                             their durations (test/helpers/durations.json). Each process
#                             logs to test-artifacts/logs/; a failing one's log is printed
#                             at the end. The last line is "N passed, N failed" over all
#                             processes (.ci/run reads it); the exit code is 1 if any failed.
#   scripts/test.sh --unit    the stack-free unit and workflow tests only (npm run test:unit).
#   scripts/test.sh ARGS...   one jest run with those arguments (files, -t, ...), on slot
#                             BQSYNC_TEST_SLOT (default 0); the stack starts only when an
#                             integration file is selected.
#
# The integration stack is restarted fresh at the start of each jest process that needs it
# (test/global-setup.ts) and stopped at its end; BQSYNC_KEEP_STACK=1 leaves it up.
set -euo pipefail
cd "$(dirname "$0")/.."

# The BigQuery client loads node-fetch as an ES module, which jest's VM allows only so.
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"

if [[ "${1:-}" == --unit ]]; then
  shift
  bash scripts/install-tools.sh --unit
  exec npx --no-install jest --selectProjects unit workflow --maxWorkers=2 "$@"
fi

bash scripts/install-tools.sh
source scripts/lib.sh
# The CDK app (deploy/) is its own package, so that the image build never installs aws-cdk-lib.
npm_install_if_changed deploy "the CDK app's, in deploy/"

if (($# > 0)); then
  exec npx --no-install jest "$@"
fi

SHARDS="${BQSYNC_TEST_SHARDS:-3}"
SLOT_BASE="${BQSYNC_TEST_SLOT_BASE:-0}"
if ((SLOT_BASE + SHARDS > 9)); then
  log "BQSYNC_TEST_SLOT_BASE ($SLOT_BASE) + BQSYNC_TEST_SHARDS ($SHARDS) must not exceed 9"
  exit 2
fi
LOGS=test-artifacts/logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

# Each jest process runs in a process group of its own (job control), so that an abort
# stops it with everything it started; the slots' stacks are stopped by their pid files.
set -m
pids=()
slots=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  if [[ "${BQSYNC_KEEP_STACK:-}" != 1 ]]; then
    for slot in "${slots[@]}"; do BQSYNC_STACK="test$slot" bash scripts/stack.sh down || true; done
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# One jest process: its whole output to its log, its PASS and FAIL lines to the terminal.
# --passWithNoTests: a shard may be left without files when there are more shards than files.
run_jest() {
  local name="$1"; shift
  local began=$SECONDS status=0
  BQSYNC_COUNT_FILE="$LOGS/$name.json" npx --no-install jest --passWithNoTests "$@" >"$LOGS/$name.log" 2>&1 &
  local jest_pid=$!
  # Lines of a finished file; jest prints them as each file ends.
  tail -n +1 -F --pid="$jest_pid" "$LOGS/$name.log" 2>/dev/null | grep --line-buffered -E '^(PASS|FAIL) ' | sed -u "s/^/[$name] /" &
  wait "$jest_pid" || status=$?
  wait
  echo "$status $((SECONDS - began))" >"$LOGS/$name.status"
  return 0
}

began=$SECONDS
log "unit and workflow tests, and the type check of the tests"
run_jest nostack --selectProjects unit workflow --maxWorkers=2 &
pids+=($!)
# jest compiles each file alone (test/tsconfig.jest.json), so the types are checked here.
(
  status=0 from=$SECONDS
  npx --no-install tsc -p test/tsconfig.json --noEmit >"$LOGS/typecheck.log" 2>&1 || status=$?
  echo "$status $((SECONDS - from))" >"$LOGS/typecheck.status"
) &
pids+=($!)
for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()

# The CDK synth is CPU work of a minute or two; it fits beside the integration shards,
# which spend much of their time waiting for retries and outages.
log "integration tests: $SHARDS shards on slots $((SLOT_BASE + 1))..$((SLOT_BASE + SHARDS)), and the deploy tests"
run_jest deploy --selectProjects deploy &
pids+=($!)
for i in $(seq 1 "$SHARDS"); do
  slot=$((SLOT_BASE + i))
  slots+=("$slot")
  (export BQSYNC_TEST_SLOT="$slot"; run_jest "shard$i" --selectProjects integration --shard="$i/$SHARDS") &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()

# Per process: its time and counts; a failing process's log in full; then the total.
passed=0 failed=0 skipped=0 status=0
for name in typecheck nostack deploy $(seq -f 'shard%g' 1 "$SHARDS"); do
  read -r code seconds <"$LOGS/$name.status" || { code=1; seconds='?'; }
  if [[ "$name" == typecheck ]]; then
    counts="$( ((code == 0)) && echo '0 0 0' || echo '0 1 0')" # a type error counts as one failure
  elif [[ -f "$LOGS/$name.json" ]]; then
    counts="$(node -e 'const c = require(process.argv[1]); console.log(c.passed, c.failed, c.skipped)' "$PWD/$LOGS/$name.json")"
  else
    counts='0 1 0' # no results at all: it failed before any test ran (its log says why)
  fi
  read -r p f s <<<"$counts"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  if [[ "$code" != 0 || "$f" != 0 ]]; then
    status=1
    printf '\n===== %s failed (exit %s): %s =====\n' "$name" "$code" "$LOGS/$name.log"
    cat "$LOGS/$name.log"
    printf '===== end of %s =====\n' "$name"
  fi
  if [[ "$name" == typecheck ]]; then
    log "typecheck: $( ((code == 0)) && echo 'no type errors' || echo 'type errors') in ${seconds} s"
  else
    log "$name: $p passed, $f failed$( ((s > 0)) && echo ", $s skipped") in ${seconds} s (exit $code)"
  fi
done
# Each file's seconds, longest first: the figures for test/helpers/durations.json.
node -e '
  const fs = require("fs");
  const files = {};
  for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.endsWith(".json"))) {
    Object.assign(files, JSON.parse(fs.readFileSync(`${process.argv[1]}/${f}`, "utf8")).files);
  }
  for (const [file, s] of Object.entries(files).sort((a, b) => b[1] - a[1])) console.error(`  ${String(s).padStart(5)} s  ${file}`);
' "$LOGS"
log "all tests took $((SECONDS - began)) s"
echo
echo "$passed passed, $failed failed$( ((skipped > 0)) && echo ", $skipped skipped")"
exit "$status"
