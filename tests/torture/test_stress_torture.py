"""Signal torture for the stress drills: `chaos run` of the CPU and the memory drill against a lab whose
trader has cgroup limits (the stressors run inside its cgroup), interrupted by SIGKILL (and SIGINT/SIGTERM)
while the stressors run, leaves no stressor behind (none in the trader's cgroup, none in the ledger) and the
trader ready within the lease: the watchdog ends them after a SIGKILL, the run's own rollback otherwise.

Plan: ``random.Random(20261202)``; per drill one SIGKILL and one SIGINT or SIGTERM, each ``delay`` (uniform
0-1.5 s) after the stress began; ``STRESS_SECONDS=60`` so the stress is surely in place at the signal. The
table is printed at the end (``pytest -s``).
"""
from __future__ import annotations

import random
import time

import pytest
from drills.kit import start_lab

from .trials import TrialPlan, assert_left_whole, format_summary, lab_missing, run_trial

SEED = 20261202
LEASE = 20.0
ENV = (("DETECT_TIMEOUT", "9"), ("WAIT_READY_TIMEOUT", "10"), ("STRESS_SECONDS", "60"), ("STRESS_ORDERS", "4"))
DRILLS = ("cpu_stress", "memory_stress")


def plan() -> list:
    rng = random.Random(SEED)
    return [TrialPlan(drill, 2 * i + j, sig, "fault", rng.uniform(0.0, 1.5), ENV)
            for i, drill in enumerate(DRILLS) for j, sig in enumerate(("SIGKILL", "SIGINT" if i == 0 else "SIGTERM"))]


PLANS = plan()
pytestmark = pytest.mark.torture


@pytest.fixture(scope="module")
def limited_lab():
    lab = start_lab(profile="fast", cpu_limit=0.5, memory_limit="256M")
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def summary():
    rows = []
    began = time.monotonic()
    yield rows
    print("\n\nStress signal torture summary\n" + format_summary(rows, time.monotonic() - began))


@pytest.mark.parametrize("plan", PLANS, ids=[p.id for p in PLANS])
def test_signal_while_stressing_leaves_no_stressor(plan, limited_lab, tmp_path, summary):
    assert lab_missing(limited_lab) == [], "the lab is not whole before the trial"
    result = run_trial(plan, limited_lab, tmp_path, LEASE)
    summary.append(result.summary())
    assert_left_whole(result, limited_lab, tmp_path, LEASE, "the stressor runs", ("end-the-stress",))
