"""The split-brain drills against labs with several replicas: they pass on the default lab (fenced, lease
guard; two and three replicas; fast and aitrapp profiles), fail on ``no_fencing`` (AITRAPP's lock as
published) with the overlap in the evidence, refuse a target with one replica, and a SIGKILLed
``chaos run`` leaves the frozen leader thawed by the watchdog within its lease."""
from __future__ import annotations

import json
import os
import signal

import pytest

from chaosaitrapp import procs
from chaosaitrapp.controls.inference import checks_of
from chaosaitrapp.targets.pause import PauseDriver
from chaosaitrapp.targets.process import read_pid
from chaosaitrapp.waiting import wait_until

from .kit import ROOT, run_drill, sigkill_mid_fault, start_lab, wait_ledger_empty

FAST = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20"}
AITRAPP = {"DETECT_TIMEOUT": "40", "WAIT_READY_TIMEOUT": "90"}
SPLIT_CHECKS = ("one_placer_at_a_time", "fencing_tokens_monotonic", "orders_once_across_replicas",
                "one_leader_at_a_time")


@pytest.fixture(scope="module")
def lab2():
    lab = start_lab(profile="fast", replicas=2)
    yield lab
    lab.down()


def history(run) -> list:
    path = run.extension["evidence"]["history"]
    return [json.loads(line) for line in open(path)]


def assert_pass(run, drill: str) -> None:
    assert run.code == 0, f"{drill} exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.extension["verdict"] == "PASS" and run.fields["test_result"] == "PASS"
    experiment = json.loads((ROOT / "experiments" / f"{drill}.json").read_text())
    assert list(run.checks) == checks_of(experiment) and set(SPLIT_CHECKS) <= set(run.checks)
    assert all(c["status"] == "pass" for c in run.extension["checks"]), run.extension["checks"]
    assert run.fields["overlap_orders"] == "0" and run.fields["overlap_s"] == "0"
    placed = [p for p in history(run) if p["status"] == 200]
    faulted = {e["replica"] for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("replica")}
    assert len(faulted) == 1, faulted
    (replica,) = faulted
    # the old leader may have had no order to place before its lease ran out; a standby must have traded
    # (the lab's instance ids start with the replica's name)
    assert any(not p["instance"].startswith(f"{replica}-") for p in placed), "a standby took over and traded"
    assert all(p["fence"] for p in placed), "every accepted order carried its grant's fencing token"
    html = open(run.extension["evidence"]["report"]).read()
    assert html.count('data-band="leader@') >= 2 and "data-overlap" not in html  # a lane per replica, no overlap


@pytest.mark.parametrize("drill", ["split_brain_pause", "split_brain_partition"])
def test_split_brain_drills_pass_on_the_fenced_lab(drill, lab2, tmp_path):
    run = run_drill(drill, lab2, tmp_path, FAST)
    assert_pass(run, drill)


def test_the_pause_drill_fails_without_fencing_and_shows_the_overlap(tmp_path):
    lab = start_lab(profile="fast", replicas=2, defects=["no_fencing"])
    try:
        run = run_drill("split_brain_pause", lab, tmp_path, FAST)
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL"
    found = run.checks
    assert found["one_placer_at_a_time"]["status"] == "fail", found["one_placer_at_a_time"]
    assert "placed after" in found["one_placer_at_a_time"]["reason"]
    assert found["orders_once_across_replicas"]["status"] == "fail"  # the same client_order_id twice
    assert found["fencing_tokens_monotonic"]["status"] == "unknown"  # AITRAPP sends no token
    assert int(run.fields["overlap_orders"]) >= 1 and float(run.fields["overlap_s"]) > 0
    late = [p for p in history(run) if p["status"] == 200 and p["fence"] is None]
    assert len({p["instance"] for p in late}) == 2
    html = open(run.extension["evidence"]["report"]).read()
    assert "data-overlap" in html and html.count('data-band="leader@') == 2  # the overlap shaded, a lane each


def test_the_partition_drill_fails_when_the_old_leader_cannot_notice(tmp_path):
    lab = start_lab(profile="fast", replicas=2, defects=["no_fencing", "no_redis_timeout"])
    try:
        run = run_drill("split_brain_partition", lab, tmp_path, FAST)
    finally:
        lab.down()
    assert run.code == 1
    leaders = run.checks["one_leader_at_a_time"]
    assert leaders["status"] == "fail" and "all reported leader 1" in leaders["reason"], leaders


def test_three_replicas_pass_both_drills(tmp_path):
    lab = start_lab(profile="fast", replicas=3)
    try:
        assert len(lab.state.replicas) == 3
        for drill in ("split_brain_pause", "split_brain_partition"):
            assert_pass(run_drill(drill, lab, tmp_path / drill, FAST), drill)
    finally:
        lab.down()


def test_the_pause_drill_passes_on_the_aitrapp_profile(tmp_path):
    """The aitrapp timing (a pass takes about 70 s). The sampler may miss 2 s here (not the default 1 s): over
    that long a run on a loaded 2-core CI machine, one missed second made the sampling checks undecided
    twice; the split-brain checks judge the broker's history, not the sampling density."""
    lab = start_lab(profile="aitrapp", replicas=2)
    try:
        run = run_drill("split_brain_pause", lab, tmp_path,
                        {**AITRAPP, "AITRAPP_CHECK_LIMITS": json.dumps({"max_sample_gap_s": 2.0})}, timeout=400)
    finally:
        lab.down()
    assert_pass(run, "split_brain_pause")


def test_one_replica_is_refused_naming_what_is_missing(tmp_path):
    lab = start_lab(profile="fast")
    try:
        run = run_drill("split_brain_pause", lab, tmp_path, FAST)
    finally:
        lab.down()
    assert run.code == 1
    assert any("at least two replicas" in r for r in run.extension["reasons"]), run.extension["reasons"]


def test_a_sigkilled_run_leaves_the_frozen_leader_thawed(lab2, tmp_path):
    try:
        pid = sigkill_mid_fault("split_brain_pause", lab2, tmp_path, {**FAST, "WAIT_READY_TIMEOUT": "60"}, PauseDriver,
                                lambda p: procs.state(p) == "stopped")
        thawed = wait_until(lambda: procs.state(pid), lambda s: s not in ("stopped", None), timeout=30, interval=0.05,
                            what="the watchdog to thaw the leader")
        assert thawed.held, f"pid {pid} still {procs.state(pid)} after the run was SIGKILLed"
        assert wait_ledger_empty(tmp_path)
    finally:
        for replica in lab2.state.services:  # never leave a lab process frozen, whatever failed above
            spec = lab2.state.services[replica]
            pid = read_pid(spec.pidfile) if spec.pidfile else None
            if pid and procs.state(pid) == "stopped":
                os.kill(pid, signal.SIGCONT)
