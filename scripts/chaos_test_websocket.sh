#!/usr/bin/env bash
# The seed's "WebSocket reconnection" next step: kills the market-data WebSocket of the trader at $API at its broker fault proxy (WS_FAULT=close|stall|restart); the trader must see the dead feed (/ready 503), trade nothing on it, and stream every instrument again within the deadline.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [BROKER_PROXY=...] [WS_FAULT=close|stall|restart] [WS_CLOSE_CODE=1006] bash scripts/chaos_test_websocket.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
export WS_FAULT=${WS_FAULT:-close}
case "$WS_FAULT" in close|stall|restart) ;; *) echo "WS_FAULT must be close, stall or restart, got '$WS_FAULT'" >&2; exit 2 ;; esac
confirm "Kills the market-data WebSocket ($WS_FAULT) of the trader at $API at its broker fault proxy${BROKER_PROXY:+ $BROKER_PROXY} and offers ${BROKER_ORDERS:-5} PAPER orders on the dead feed. Target API: $API."
run_drill websocket_reconnect
