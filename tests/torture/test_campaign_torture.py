"""Campaign torture: a campaign run by `chaos run` and interrupted by SIGINT, SIGTERM or SIGKILL at a seeded
instant while its overlapping faults are on leaves nothing behind within the fault lease: Redis and Postgres
answer, /ready is 200, no broker or network fault, no stressor, no orders lock, and an empty ledger.

Plan: ``random.Random(20261205)``: one trial per signal, the signal sent to `chaos run`'s process group a drawn
delay after the first ``campaign_fault`` event on the timeline; a schedule of five faults (a Redis stop, a token
fault inside it, a Postgres write hang, CPU stress and a forward clock jump beside them, the lab's trader under the
clock shim) so that every delay lands with faults of four families on; the trader's clock file back at ``+0`` is
part of whole. ``AITRAPP_FAULT_LEASE=20``."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest
from drills.kit import CHAOS, ROOT, drill_env, settle, start_lab

from chaosaitrapp.campaign.schedule import Fault, make_schedule
from chaosaitrapp.cli.campaign_runner import write_campaign
from chaosaitrapp.waiting import wait_until

from .trials import lab_missing

SEED = 20261205
LEASE_S = 20.0
FAULTS = (Fault("f001", "redis_stop", 2.0, 6.0), Fault("f002", "broker_token_invalidated", 3.0, 4.0),
          Fault("f003", "postgres_write_hang", 2.5, 5.0), Fault("f004", "cpu_stress", 2.0, 6.0),
          Fault("f005", "clock_forward", 2.2, 6.0))
TRIALS = [(sig, round(random.Random(SEED + i).uniform(0.3, 3.5), 2)) for i, sig in
          enumerate(("SIGINT", "SIGTERM", "SIGKILL"))]


@pytest.fixture(scope="module")
def lab():
    started = start_lab(profile="fast", fake_clock=True)
    yield started
    started.down()


def _started(timeline_dir: Path) -> bool:
    return any("campaign_fault" in p.read_text() for p in timeline_dir.glob("*.timeline.jsonl"))


@pytest.mark.parametrize("sig, delay", TRIALS, ids=[f"{s}-{d}" for s, d in TRIALS])
def test_an_interrupted_campaign_leaves_nothing_behind(lab, tmp_path, sig, delay):
    schedule = make_schedule(1, 1, ["dependencies", "broker", "gray", "stress", "clock"]).with_faults(FAULTS, "torture")
    experiment = write_campaign(schedule, tmp_path / "campaign", "campaign")
    settle(lab)
    env = drill_env(lab, tmp_path, {"AITRAPP_FAULT_LEASE": str(int(LEASE_S)), "WAIT_READY_TIMEOUT": "15"})
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    reports.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(reports / "journal.json"),
                             str(experiment)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        seen = wait_until(lambda: _started(reports), bool, timeout=60, interval=0.05, what="the first campaign fault")
        assert seen.held, "the campaign never began a fault"
        assert not wait_until(lambda: proc.poll(), lambda code: code is not None, timeout=delay, interval=0.05,
                              what="the drawn instant").held, "the campaign ended before the signal"
        os.killpg(proc.pid, getattr(signal, sig))
        assert wait_until(lambda: proc.poll(), lambda code: code is not None, timeout=90, interval=0.1,
                          what="chaos run to exit").held
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    whole = wait_until(lambda: lab_missing(lab, tmp_path / "state"), lambda missing: not missing,
                       timeout=LEASE_S + 40, interval=0.2, what="the lab whole and the ledger empty")
    assert whole.held, f"after {sig} at +{delay}s: still missing {whole.value}"
    journal = reports / "journal.json"
    if sig != "SIGKILL" and journal.exists():
        data = json.loads(journal.read_text())
        assert data["status"] in ("interrupted", "failed", "aborted"), data["status"]
        assert data["rollbacks"], "an interrupted campaign rolls back"
