#!/usr/bin/env bash
# Shared by the seed's chaos_test_*.sh entry points: flags, prompt, and the chaos run itself.
#
#   NONINTERACTIVE=1     auto-proceed without prompts (CI); default 0: ask before injecting
#   PAUSE_ON_FAIL=1      abort the target (pause, flatten, PAPER) when the drill fails
#   API, REDIS_CONTAINER, POSTGRES_CONTAINER, HEARTBEAT_MAX, WAIT_READY_TIMEOUT, BROKER_PROXY,
#   BROKER_ORDERS, DROP_REPLIES, WS_FAULT, WS_CLOSE_CODE: see README
#   (REDIS_CONTAINER/POSTGRES_CONTAINER are passed on only when set: an explicitly named container
#   wins over a lab, the seed's default `redis`/`postgres` does not)
#
# Exit code: 0 PASS, 1 FAIL, 2 refused by the pre-flight (bad input: nothing was injected, nothing
# rolled back or aborted). Evidence: reports/chaos/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export NONINTERACTIVE=${NONINTERACTIVE:-0}
export PAUSE_ON_FAIL=${PAUSE_ON_FAIL:-0}
export API=${API:-http://localhost:8000}
export HEARTBEAT_MAX=${HEARTBEAT_MAX:-5}
export WAIT_READY_TIMEOUT=${WAIT_READY_TIMEOUT:-90}

chaos_bin() {
  if [ -x "$ROOT/.venv/bin/chaos" ]; then echo "$ROOT/.venv/bin/chaos"
  elif command -v chaos >/dev/null 2>&1; then command -v chaos
  else echo "chaos (chaostoolkit) is not installed: run 'make install' first" >&2; return 1
  fi
}

confirm() {
  # confirm "what will happen": asks unless NONINTERACTIVE=1; refuses without a terminal.
  [ "$NONINTERACTIVE" = "1" ] && return 0
  if [ ! -t 0 ]; then
    echo "no terminal to ask on: set NONINTERACTIVE=1 to run without prompts" >&2
    return 1
  fi
  local answer
  read -r -p "$1 Proceed? [y/N] " answer
  case "$answer" in y|Y|yes|YES) return 0 ;; *) echo "not confirmed: nothing was done" >&2; return 1 ;; esac
}

run_drill() {
  # run_drill DRILL: chaos run experiments/DRILL.json, evidence in reports/chaos/.
  local drill=$1 chaos out
  chaos=$(chaos_bin)
  out=${AITRAPP_REPORTS_DIR:-$ROOT/reports/chaos}
  mkdir -p "$out"
  export AITRAPP_REPORTS_DIR=$out
  echo "== $drill: API=$API HEARTBEAT_MAX=$HEARTBEAT_MAX WAIT_READY_TIMEOUT=$WAIT_READY_TIMEOUT PAUSE_ON_FAIL=$PAUSE_ON_FAIL${PARTITION:+ PARTITION=$PARTITION}${PARTITION_KIND:+ PARTITION_KIND=$PARTITION_KIND}${REDIS_CONTAINER:+ REDIS_CONTAINER=$REDIS_CONTAINER}${POSTGRES_CONTAINER:+ POSTGRES_CONTAINER=$POSTGRES_CONTAINER}${BROKER_PROXY:+ BROKER_PROXY=$BROKER_PROXY}${WS_FAULT:+ WS_FAULT=$WS_FAULT}"
  local status=0
  (cd "$ROOT" && "$chaos" --no-version-check --log-file "$out/${drill}_chaostoolkit.log" run \
      --journal-path "$out/${drill}_journal.json" "experiments/${drill}.json") || status=$?
  local log
  log=$(ls -t "$out/${drill}"_20*.log 2>/dev/null | head -n 1 || true)
  if [ -n "$log" ]; then
    if grep -q '^refused,true$' "$log"; then
      status=2
      echo "== $drill: REFUSED by the pre-flight (nothing was injected): $(grep -m1 '^failure_reason,' "$log" | cut -d, -f2-)" >&2
    fi
    echo "== $drill: $(grep '^test_result,' "$log" | cut -d, -f2) (exit $status); evidence: $log"
    [ -f "${log%.log}.html" ] && echo "== report: ${log%.log}.html"
  else
    echo "== $drill: no evidence log was written (exit $status)" >&2
    [ "$status" -ne 0 ] || status=1
  fi
  return "$status"
}
