#!/usr/bin/env bash
# The seed's chaos_test_rate_limit.sh: Sends a burst of PAPER orders with duplicate submissions to $API and waits for the throttle queue to drain.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] bash scripts/chaos_test_rate_limit.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Sends a burst of PAPER orders with duplicate submissions to $API and waits for the throttle queue to drain. Target API: $API."
run_drill rate_limit_spike
