#!/usr/bin/env bash
# The seed's "network partition simulation" next step: cuts the path from the trader at $API to one dependency while it keeps running (PARTITION=redis|postgres|broker; PARTITION_KIND=blackhole|reject|latency, PARTITION_MECHANISM=auto|proxy|kernel); PARTITION=latency slows Redis below the target's timeouts instead.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [PARTITION=redis] [PARTITION_KIND=blackhole] [PARTITION_LATENCY_MS=...] [PARTITION_SECONDS=6] [NET_PROXY=...] [BROKER_PROXY=...] bash scripts/chaos_test_network_partition.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
export PARTITION=${PARTITION:-redis}
case "$PARTITION" in
  redis|postgres|broker) drill=network_partition_$PARTITION ;;
  latency) drill=network_latency_redis ;;
  *) echo "PARTITION must be redis, postgres, broker or latency, got '$PARTITION'" >&2; exit 2 ;;
esac
confirm "Cuts the trader at $API off from its $PARTITION (${PARTITION_KIND:-blackhole}, ${PARTITION_MECHANISM:-auto}) while it keeps running, with PAPER orders arriving. Target API: $API."
run_drill "$drill"
