"""Signal torture: every seed drill, interrupted by SIGINT, SIGTERM or SIGKILL at a random moment
of its method, leaves a whole lab behind within the fault lease.

Plan: ``random.Random(20261125)``, 10 trials per drill, signals round-robin (10 of each overall),
the signal sent to `chaos run`'s process group ``delay`` seconds after an anchor on the drill's
timeline: the method's start, or (every other trial of the drills that stop a dependency) the
dependency stop itself, so that SIGKILL lands while the fault is in place. One fast lab per drill,
a fresh reports + state (ledger) directory per trial, ``AITRAPP_FAULT_LEASE=20``.

After every trial, within the lease: the run has exited, Redis and Postgres answer, /ready is 200,
the ledger is empty and every watchdog has finished. After SIGINT/SIGTERM: the journal (when
written) says ``interrupted`` or ``failed`` and lists every rollback, the restore succeeded, and the
watchdog did not have to act. After SIGKILL: a fault the run had not undone was undone by the
watchdog. Restore times are recorded, never asserted beyond the lease; the table is printed at the
end (``pytest -s``) and written to ``<pytest basetemp>/torture_summary.json``.

Run: ``timeout 900 .venv/bin/python -m pytest tests/torture -x -s``.
"""
from __future__ import annotations

import json
import time

import pytest
from drills.checks import assert_lab_whole
from drills.kit import ROOT, start_lab

from chaosaitrapp.waiting import wait_until

from .trials import (
    SIGNALS,
    ended_cleanly,
    format_summary,
    lab_missing,
    plan_trials,
    restored_by,
    run_trial,
    started_after,
)

DRILLS = ["leader_lock", "postgres_blip", "rate_limit_spike"]
SEED = 20261125
TRIALS_PER_DRILL = 10
LEASE = 20.0
PLANS = plan_trials(SEED, DRILLS, TRIALS_PER_DRILL)
RESTORE_ACTIONS = {"leader_lock": "restore-redis", "postgres_blip": "restore-postgres"}

pytestmark = pytest.mark.torture


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    """Rows of every trial; printed as a table and written as JSON when the module ends."""
    rows = []
    began = time.monotonic()
    yield rows
    table = format_summary(rows, time.monotonic() - began)
    out = tmp_path_factory.getbasetemp() / "torture_summary.json"
    out.write_text(json.dumps({"seed": SEED, "lease_s": LEASE, "trials": rows}, indent=1))
    print("\n\nSignal torture summary (" + str(out) + ")\n" + table)


@pytest.fixture(scope="module")
def drill_lab(request):
    """One fast lab per drill, shared by that drill's trials."""
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


def _context(result) -> str:
    watchdogs = "\n".join(f"  watchdog[{pid}] {line}" for pid, lines in result.watchdogs.items() for line in lines)
    events = "\n".join(f"  {e.get('t')} {e.get('event')} {e.get('target')} {e.get('detail')}" for e in result.events)
    return (f"\ntrial {result.plan} in {result.workdir}\nphase at signal {result.phase_at_signal}, "
            f"fault in place {result.fault_in_place_at_signal}, exit {result.exit_code} after {result.exit_s}\n"
            f"timeline events:\n{events}\nwatchdogs:\n{watchdogs}\nchaos output (tail):\n{result.output_tail}")


@pytest.mark.parametrize("drill_lab,plan", [(p.drill, p) for p in PLANS], indirect=["drill_lab"],
                         ids=[p.id for p in PLANS])
def test_signal_mid_method_leaves_lab_whole(drill_lab, plan, tmp_path, summary):
    lab = drill_lab
    # the previous trial must have left the lab whole (it asserted so); a lab that is not cannot be tortured
    # (an aitrapp-profile ticker may still be reconnecting after the last one: it is given the time to)
    whole = wait_until(lambda: lab_missing(lab), lambda missing: missing == [], timeout=90, interval=0.2,
                       what="the lab whole before the trial")
    assert whole.held, f"the lab is not whole before the trial: {whole.value}"
    result = run_trial(plan, lab, tmp_path, LEASE)
    summary.append(result.summary())
    context = _context(result)

    assert result.alive_at_signal, "the run ended before the signal: the delay fell past the method" + context
    assert result.phase_at_signal == "method", "the signal did not land in the method" + context
    assert result.exit_code is not None, f"chaos still ran {LEASE:g} s after {plan.signal}" + context
    assert result.restore_s is not None, (f"lab not whole within the {LEASE:g} s lease after {plan.signal}: "
                                          f"{result.missing} still missing" + context)
    assert_lab_whole(lab, tmp_path, timeout=max(1.0, LEASE - result.restore_s))
    unfinished = [pid for pid, lines in result.watchdogs.items() if not ended_cleanly(lines)]
    assert not unfinished, f"watchdogs {unfinished} did not end cleanly within the lease" + context

    experiment = json.loads((ROOT / "experiments" / f"{plan.drill}.json").read_text())
    if plan.signal in ("SIGINT", "SIGTERM"):
        assert restored_by(result) != "watchdog", \
            f"after {plan.signal} the run's own rollback must restore the dependency, not the watchdog" + context
        if result.journal_written:
            journal = result.journal
            assert journal["status"] in ("interrupted", "failed"), \
                f"journal status {journal['status']!r} after {plan.signal}" + context
            # the signal stops the method: only the activity it interrupted may have begun after it
            later = started_after(journal, result.signalled_wall)
            assert len(later) <= 1, f"the method played on after {plan.signal}: {later}" + context
            ran = [r["activity"]["name"] for r in journal.get("rollbacks", [])]
            assert ran == [a["name"] for a in experiment["rollbacks"]], f"rollbacks played: {ran}" + context
            restore = RESTORE_ACTIONS.get(plan.drill)
            if restore:
                status = next(r["status"] for r in journal["rollbacks"] if r["activity"]["name"] == restore)
                assert status == "succeeded", f"rollback {restore} {status}" + context
    else:
        assert result.exit_code == -9, f"exit {result.exit_code} after SIGKILL" + context
        assert not result.journal_written, "a SIGKILLed run cannot have written its journal" + context
        registered = any("watching run pid" in l for lines in result.watchdogs.values() for l in lines)
        restored_by_run = any(e.get("event") == "restored" for e in result.events)
        if registered and not restored_by_run:
            assert restored_by(result) == "watchdog", \
                "the run died with a fault registered and not undone, but no watchdog undid it" + context
            assert any("is gone: undoing" in l for lines in result.watchdogs.values() for l in lines), \
                "the watchdog must act because the run died" + context
        if plan.drill in RESTORE_ACTIONS and result.fault_in_place_at_signal:
            assert restored_by(result) == "watchdog", "killed with the fault in place: the watchdog restores" + context


def test_plan_covers_every_signal_and_drill():
    """The plan holds at least 10 trials per drill and the same share of each signal."""
    for drill in DRILLS:
        assert sum(1 for p in PLANS if p.drill == drill) >= 10
    counts = {s: sum(1 for p in PLANS if p.signal == s) for s in SIGNALS}
    assert min(counts.values()) == max(counts.values()) >= 10, counts
    assert any(p.anchor == "fault" and p.signal == "SIGKILL" for p in PLANS)
