#!/usr/bin/env bash
# The seed's "broker token expiry" next step: invalidates the access token of the trader at $API at its broker fault proxy (BROKER_PROXY, default the lab's), loses DROP_REPLIES placement replies, sends BROKER_ORDERS orders; the trader must refresh once and place each order exactly once.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [BROKER_PROXY=...] [BROKER_ORDERS=5] [DROP_REPLIES=1] bash scripts/chaos_test_broker_token.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Invalidates the broker access token of the trader at $API (at its fault proxy${BROKER_PROXY:+ $BROKER_PROXY}) and sends ${BROKER_ORDERS:-5} PAPER orders during the expiry. Target API: $API."
run_drill broker_token_expiry
