#!/usr/bin/env bash
# A gray failure that cannot threaten the lease: stalls the trader's Redis (CLIENT PAUSE ALL) for STALL_SECONDS, shorter than its lock TTL minus refresh (0: half of that); no pause required, nothing lost, all back by itself.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [STALL_SECONDS=0] [REDIS_TARGET=...] bash scripts/chaos_test_redis_stall_brief.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Stalls the Redis of the trader at $API (CLIENT PAUSE ALL) briefly, for ${STALL_SECONDS:-half its lease window}${STALL_SECONDS:+ s}, with PAPER orders arriving. Target API: $API."
run_drill redis_stall_brief
