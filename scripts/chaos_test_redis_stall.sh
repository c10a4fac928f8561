#!/usr/bin/env bash
# A gray failure: stalls the trader's Redis (CLIENT PAUSE ALL: up, connected, answering nothing) for STALL_SECONDS (0: the lease) and waits for AITRAPP to stop trading before its lease can run out, then to recover by itself.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [STALL_SECONDS=0] [REDIS_TARGET=...] bash scripts/chaos_test_redis_stall.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Stalls the Redis of the trader at $API (CLIENT PAUSE ALL) for ${STALL_SECONDS:-its lease}${STALL_SECONDS:+ s}, with PAPER orders arriving. Target API: $API."
run_drill redis_stall
