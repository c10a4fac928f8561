#!/usr/bin/env bash
# The seed's chaos_test_postgres.sh: Stops Postgres (POSTGRES_CONTAINER=$POSTGRES_CONTAINER or the lab's), checks the API stays up and idempotency holds.
# Usage: [NONINTERACTIVE=1] [PAUSE_ON_FAIL=1] [API=...] bash scripts/chaos_test_postgres.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/drill.sh"
confirm "Stops Postgres (${POSTGRES_CONTAINER:+container $POSTGRES_CONTAINER}${POSTGRES_CONTAINER:-the lab Postgres when a lab serves $API, else container postgres}), checks the API stays up and idempotency holds. Target API: $API."
run_drill postgres_blip
