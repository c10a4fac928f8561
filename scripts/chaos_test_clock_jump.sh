#!/usr/bin/env bash
# Steps the trader's wall clock by CLOCK_JUMP seconds (its monotonic clock runs on) for CLOCK_HOLD seconds through its clock file (the wall-clock shim), then puts it back: the lock key stays held, heartbeat ages stay sane, every order exactly once.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] CLOCK_FILE=... [CLOCK_JUMP=-300] [CLOCK_HOLD=0] bash scripts/chaos_test_clock_jump.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Steps the wall clock of the trader at $API by ${CLOCK_JUMP:--300} s (through ${CLOCK_FILE:-no clock file}) for ${CLOCK_HOLD:-its lease}${CLOCK_HOLD:+ s}, with PAPER orders arriving. Target API: $API."
run_drill clock_jump
