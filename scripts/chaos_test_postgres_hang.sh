#!/usr/bin/env bash
# A gray failure: writes to the trader's orders table hang behind a lock of the drill's own (Postgres up, reads going on) for HANG_SECONDS; the API must keep answering, and no order may be lost, doubled or left pending.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] [POSTGRES_FAULT=table_lock] [HANG_SECONDS=15] [ANSWER_MAX=8] bash scripts/chaos_test_postgres_hang.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Locks the orders table of the trader at $API's Postgres (writes hang, reads go on) for ${HANG_SECONDS:-15} s, with PAPER orders arriving. Target API: $API."
run_drill postgres_hang
