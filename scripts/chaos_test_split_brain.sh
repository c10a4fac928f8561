#!/usr/bin/env bash
# Split brain between replicas: the leader among the trader's replicas is frozen past its lease (SPLIT_BRAIN=pause: SIGSTOP or docker pause) or cut off from Redis while it still reaches the broker (SPLIT_BRAIN=partition), with orders queued in it; a standby takes over. One trader at a time, judged on the broker's order history.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [SPLIT_BRAIN=pause] [SPLIT_BRAIN_ORDERS=12] [REPLICAS=...] [REPLICA_TARGETS=...] [REPLICA_REDIS_ROUTES=...] bash scripts/chaos_test_split_brain.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
export SPLIT_BRAIN=${SPLIT_BRAIN:-pause}
case "$SPLIT_BRAIN" in
  pause|partition) drill=split_brain_$SPLIT_BRAIN ;;
  *) echo "SPLIT_BRAIN must be pause or partition, got '$SPLIT_BRAIN'" >&2; exit 2 ;;
esac
confirm "Freezes or cuts off the leading replica of the trader at $API (and its replicas) while a standby takes over, with PAPER orders queued in it. Target API: $API."
run_drill "$drill"
