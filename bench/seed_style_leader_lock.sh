#!/usr/bin/env bash
# The leader-lock drill as the seed's shell suite does it (its README: the helpers jqval, metric,
# wait_ready, assert_paused, assert_resumed, snapshot_metrics; curl, jq-less grep, a poll every second),
# for bench/drill_speed.py to time against `chaos run experiments/leader_lock.json`. Not part of the suite.
#
#   API=... REDIS_STOP='cmd' REDIS_START='cmd' HEARTBEAT_MAX=5 WAIT_READY_TIMEOUT=90 bash bench/seed_style_leader_lock.sh
#
# REDIS_STOP / REDIS_START default to the seed's `docker stop|start $REDIS_CONTAINER`. Exit 0 PASS, 1 FAIL.
set -u
API=${API:-http://localhost:8000}
REDIS_CONTAINER=${REDIS_CONTAINER:-redis}
REDIS_STOP=${REDIS_STOP:-docker stop $REDIS_CONTAINER}
REDIS_START=${REDIS_START:-docker start $REDIS_CONTAINER}
HEARTBEAT_MAX=${HEARTBEAT_MAX:-5}
WAIT_READY_TIMEOUT=${WAIT_READY_TIMEOUT:-90}
LOG=${LOG:-/dev/null}

jqval() { # jqval PATH KEY: a top-level value of a JSON answer
  curl -s --max-time 5 "$API$1" | grep -o "\"$2\": *[^,}]*" | head -1 | sed 's/.*: *//; s/"//g'
}
metric() { # metric NAME: the first sample of a Prometheus metric
  curl -s --max-time 5 "$API/metrics" | grep "^$1" | head -1 | awk '{print $2}'
}
ready_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$API/ready"; }
wait_code() { # wait_code CODE TIMEOUT: poll /ready every second
  local deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(ready_code)" = "$1" ] && return 0
    sleep 1
  done
  return 1
}
wait_ready() { wait_code 200 "$WAIT_READY_TIMEOUT"; }
assert_paused() { [ "$(jqval /state is_paused)" = "true" ]; }
assert_resumed() { [ "$(jqval /state is_paused)" = "false" ]; }
snapshot_metrics() { curl -s --max-time 5 "$API/metrics" > /dev/null; }
fail() { echo "FAIL: $1"; echo "test_result,FAIL" >> "$LOG"; exit 1; }

# 1. Baseline
wait_ready || fail "not ready before"
[ "$(metric trader_is_leader)" = "1.0" ] || [ "$(metric trader_is_leader)" = "1" ] || fail "leader should be 1"
assert_resumed || fail "paused before"
snapshot_metrics
# 2. Stop Redis: not ready, leader 0, paused, healthy
$REDIS_STOP > /dev/null || fail "cannot stop redis"
wait_code 503 "$WAIT_READY_TIMEOUT" || fail "ready should be 503"
leader=$(metric trader_is_leader)
[ "${leader%.0}" = "0" ] || fail "leader should be 0"
assert_paused || fail "should be paused"
[ "$(jqval /health status)" = "healthy" ] || fail "health should stay healthy"
snapshot_metrics
# 3. Restart Redis, 4. recovery
$REDIS_START > /dev/null || fail "cannot start redis"
wait_ready || fail "ready should be 200 again"
leader=$(metric trader_is_leader)
[ "${leader%.0}" = "1" ] || fail "leader should be 1"
assert_resumed || fail "should be resumed"
for hb in trader_marketdata_heartbeat_seconds trader_order_stream_heartbeat_seconds trader_scan_heartbeat_seconds; do
  value=$(metric "$hb")
  awk -v v="$value" -v m="$HEARTBEAT_MAX" 'BEGIN { exit !(v + 0 < m + 0) }' || fail "$hb $value >= $HEARTBEAT_MAX"
done
snapshot_metrics
echo "test_result,PASS" >> "$LOG"
echo PASS
