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
from drills.checks import assert_lab_whole
from drills.kit import start_lab

from .trials import TrialPlan, format_summary, lab_missing, restored_by, run_trial

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
    context = (f"\ntrial {plan.id}: phase {result.phase_at_signal}, stress in place {result.fault_in_place_at_signal}, "
               f"exit {result.exit_code}, missing {result.missing}\nwatchdogs {result.watchdogs}\n{result.output_tail}")
    assert result.alive_at_signal and result.phase_at_signal == "method", context
    assert result.fault_in_place_at_signal, "the signal must land while the stressor runs" + context
    assert result.exit_code is not None, f"chaos still ran {LEASE:g} s after {plan.signal}" + context
    assert result.restore_s is not None, f"not whole within {LEASE:g} s: {result.missing}" + context
    assert_lab_whole(limited_lab, tmp_path, timeout=max(1.0, LEASE - result.restore_s))
    if plan.signal == "SIGKILL":
        assert result.exit_code == -9 and restored_by(result) == "watchdog", context
    else:
        assert restored_by(result) != "watchdog", "the run's own rollback ends the stress" + context
        ran = [r["activity"]["name"] for r in result.journal.get("rollbacks", [])]
        assert ran[:1] == ["end-the-stress"], ran
