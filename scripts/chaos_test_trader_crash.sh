#!/usr/bin/env bash
# Kills the trader (SIGKILL) at CRASH_POINT of an order's life, as the broker fault proxy sees it, and starts it again as it ran: it leads again, no order stays in doubt, none is sent twice, none acknowledged is lost.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [TARGET_PROCESS=process:PIDFILE|docker:NAME|lab:trader] [CRASH_POINT=after_broker_ack|after_reply|queue_full] [CRASH_ORDERS=3] [CRASH_DELAY_MS=0] [RECONCILE_TIMEOUT=60] bash scripts/chaos_test_trader_crash.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Kills the trader ${TARGET_PROCESS:-of the deployment description} with SIGKILL at ${CRASH_POINT:-after_broker_ack}, with ${CRASH_ORDERS:-3} PAPER orders in flight, and starts it again as it ran. Target API: $API."
run_drill trader_crash
