#!/usr/bin/env bash
# The seed's chaos_test_leader_lock.sh: Stops Redis (REDIS_CONTAINER=$REDIS_CONTAINER or the lab's) and waits for AITRAPP to pause and recover.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] bash scripts/chaos_test_leader_lock.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Stops Redis (${REDIS_CONTAINER:+container $REDIS_CONTAINER}${REDIS_CONTAINER:-the lab Redis when a lab serves $API, else container redis}) and waits for AITRAPP to pause and recover. Target API: $API."
run_drill leader_lock
