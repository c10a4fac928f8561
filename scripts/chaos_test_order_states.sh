#!/usr/bin/env bash
# Has the broker fault proxy say ORDER_STATE of the drill's orders (pending then cancelled, rejected after the 200, filled in parts, a lost or a late update): the trader follows the broker's word on each, never ahead of it, its fills the broker's, nothing placed twice.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [BROKER_PROXY=...] [ORDER_STATE=pending_then_cancelled|rejected_after_ack|partial_fill|lost_update|late_update] [ORDER_STATE_S=2] [ORDER_STATE_ORDERS=3] [CONVERGE_TIMEOUT=20] bash scripts/chaos_test_order_states.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Scripts the broker's answers at the broker fault proxy: ${ORDER_STATE_ORDERS:-3} PAPER orders shown as ${ORDER_STATE:-pending_then_cancelled}. Target API: $API."
run_drill broker_order_states
