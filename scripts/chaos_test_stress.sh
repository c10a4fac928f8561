#!/usr/bin/env bash
# CPU or memory stress on the trader: stress-ng workers inside its own cgroup when it has one (`lab up --cpu-limit 0.5 --memory-limit 256M`, a container), else beside it, for STRESS_SECONDS, while PAPER orders arrive paced. Heartbeats, /ready and order-latency p99, leadership, survival (no OOM kill, no restart), memory given back, every order once; the stressors end on time.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [STRESS=cpu] [STRESS_SECONDS=20] [STRESS_WORKERS=2] [STRESS_VM_BYTES=64M] [STRESS_SCOPE=auto] [STRESS_ORDERS=20] [TARGET_PROCESS=...] bash scripts/chaos_test_stress.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
export STRESS=${STRESS:-cpu}
case "$STRESS" in
  cpu|memory) drill=${STRESS}_stress ;;
  *) echo "STRESS must be cpu or memory, got '$STRESS'" >&2; exit 2 ;;
esac
confirm "Runs stress-ng ($STRESS, ${STRESS_SECONDS:-20}s) against the trader at $API (inside its cgroup when it has one), with PAPER orders. Target API: $API."
run_drill "$drill"
