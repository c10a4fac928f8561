#!/usr/bin/env bash
# Jumps the trader's wall clock to 10 s before the next 06:00 IST (its monotonic clock runs on) through its clock file; when it reads 06:00 the token is expired at the broker fault proxy, as Kite does: one refresh (no storm), the lock kept, heartbeat ages sane, every order exactly once.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] CLOCK_FILE=... [BROKER_PROXY=...] [CLOCK_HOLD=0] bash scripts/chaos_test_clock_token_expiry.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Jumps the wall clock of the trader at $API to 10 s before 06:00 IST (through ${CLOCK_FILE:-no clock file}) for ${CLOCK_HOLD:-its lease}${CLOCK_HOLD:+ s}, then expires its broker token at the broker fault proxy, with PAPER orders arriving. Target API: $API."
run_drill clock_token_expiry
