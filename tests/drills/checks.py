"""Assertions shared by the drill tests: the lab is whole again, nothing is left in the ledger."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import psycopg
import requests

from chaosaitrapp.targets.answers import postgres_answers, redis_answers
from chaosaitrapp.targets.labstate import lab_database_url
from chaosaitrapp.waiting import wait_until

from .kit import Lab


def assert_lab_whole(lab: Lab, workdir: Optional[Path] = None, timeout: float = 30,
                     ledger: Optional[Path] = None) -> float:
    """Redis and Postgres answer, /ready is 200 again, and the fault ledger is empty; returns how
    long it took for all of that to hold."""
    redis_spec, pg_spec = lab.state.services["redis"], lab.state.services["postgres"]
    began = time.monotonic()
    for what, check in (("redis", lambda: redis_answers("127.0.0.1", redis_spec.port)),
                        ("postgres", lambda: postgres_answers("127.0.0.1", pg_spec.port)),
                        ("/ready 200", lambda: requests.get(lab.api + "/ready", timeout=2).status_code == 200)):
        result = wait_until(check, bool, timeout=max(1.0, timeout - (time.monotonic() - began)), interval=0.1)
        assert result.held, f"{what} not back within {timeout}s (last error {result.last_error})"
    ledger = ledger or workdir / "state" / "ledger.json"
    if ledger.exists():
        entries = json.loads(ledger.read_text()).get("entries", [])
        assert entries == [], f"faults left in the ledger: {entries}"
    return time.monotonic() - began


def orders_locked(lab: Lab) -> bool:
    """True while someone holds an EXCLUSIVE lock on the lab's ``orders`` table (the Postgres hang's)."""
    with psycopg.connect(lab_database_url(lab.state), connect_timeout=3) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE relation = 'orders'::regclass "
                           "AND mode = 'ExclusiveLock' AND granted").fetchone()
    return bool(row[0])
