"""The stress drills against real labs: both pass on the healthy lab, with cgroup limits (the stressors
compete inside the trader's own cgroup) and without (beside it); ``blocking_scan`` makes the CPU drill
fail (the heartbeats stall on the sampler's clock), ``memory_leak_under_load`` makes the memory drill fail
(the trader OOM-killed at its limit); the seed-style wrapper runs them; a SIGKILLed ``chaos run`` leaves
no stressor behind (the watchdog ends it within its lease)."""
from __future__ import annotations

import json

import pytest

from chaosaitrapp import procs
from chaosaitrapp.controls.inference import checks_of
from chaosaitrapp.stress.stressor import StressDriver
from chaosaitrapp.targets.cgroups import from_dict
from chaosaitrapp.waiting import wait_until

from .kit import ROOT, run_drill, run_script, sigkill_mid_fault, start_lab, wait_ledger_empty

STRESS_ENV = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20", "STRESS_SECONDS": "6", "STRESS_ORDERS": "8"}
LIMITS = {"cpu_limit": 0.5, "memory_limit": "256M"}
STRESS_CHECKS = ("heartbeats_under_stress", "latency_under_stress", "order_latency_under_stress", "no_leader_flap",
                 "target_survived", "stress_bounded", "orders_exactly_once")


@pytest.fixture(scope="module")
def limited_lab():
    lab = start_lab(profile="fast", **LIMITS)
    yield lab
    lab.down()


def assert_pass(run, drill: str) -> None:
    assert run.code == 0, f"{drill} exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.extension["verdict"] == "PASS" and run.fields["test_result"] == "PASS"
    experiment = json.loads((ROOT / "experiments" / f"{drill}.json").read_text())
    found = run.checks
    assert list(found) == checks_of(experiment) and set(STRESS_CHECKS) <= set(found)
    assert all(c["status"] == "pass" for c in run.extension["checks"]), run.extension["checks"]
    for key in ("heartbeat_max_s", "ready_p99_ms", "order_p99_ms"):
        assert float(run.fields[key]) >= 0, f"evidence field {key}: {run.fields.get(key)}"
    html = open(run.extension["evidence"]["report"]).read()
    assert 'data-lane="rss"' in html and 'data-lane="cpu"' in html


@pytest.mark.alone  # judged on latency under stress: run apart from the suite (setup.cfg)
@pytest.mark.parametrize("drill", ["cpu_stress", "memory_stress"])
def test_the_stress_drills_pass_inside_the_traders_cgroup(drill, limited_lab, tmp_path):
    run = run_drill(drill, limited_lab, tmp_path, STRESS_ENV)
    assert_pass(run, drill)
    injected = [e for e in run.timeline_events() if e.get("event") == "fault" and e.get("stress")]
    group = from_dict(limited_lab.state.cgroups["trader"])
    assert injected and injected[0]["target_cgroup"] == group.describe(), injected


@pytest.mark.alone  # judged on latency under stress: run apart from the suite (setup.cfg)
@pytest.mark.parametrize("drill", ["cpu_stress", "memory_stress"])
def test_the_stress_drills_pass_beside_an_unlimited_trader(drill, tmp_path):
    lab = start_lab(profile="fast")
    try:
        run = run_drill(drill, lab, tmp_path, {**STRESS_ENV, "STRESS_WORKERS": "1"})
    finally:
        lab.down()
    assert_pass(run, drill)
    injected = [e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("stress")]
    assert "in host" in injected[0]["detail"]


def test_the_cpu_drill_fails_on_a_scan_that_blocks_the_event_loop(tmp_path):
    lab = start_lab(profile="fast", defects=["blocking_scan"], **LIMITS)
    try:
        run = run_drill("cpu_stress", lab, tmp_path, STRESS_ENV)
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL"
    found = run.checks
    assert "heartbeats_under_stress" in found, f"the drill never judged the stress: {run.reasons}"
    assert found["heartbeats_under_stress"]["status"] == "fail", found["heartbeats_under_stress"]
    assert "the process stalled" in found["heartbeats_under_stress"]["reason"]
    assert found["latency_under_stress"]["status"] == "fail", found["latency_under_stress"]


def test_the_memory_drill_fails_when_the_trader_leaks_into_its_limit(tmp_path):
    lab = start_lab(profile="fast", defects=["memory_leak_under_load"], **LIMITS)
    try:
        # the trader stays dead after its OOM kill: a short wait for it to be ready again decides as well
        run = run_drill("memory_stress", lab, tmp_path, {**STRESS_ENV, "STRESS_ORDERS": "24", "WAIT_READY_TIMEOUT": "6"})
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL"
    survived = run.checks["target_survived"]
    assert survived["status"] == "fail" and "OOM-killed" in survived["reason"], survived


def test_the_seed_wrapper_runs_the_memory_drill(limited_lab, tmp_path):
    run = run_script("chaos_test_stress.sh", limited_lab, tmp_path, {**STRESS_ENV, "STRESS": "memory",
                                                                     "NONINTERACTIVE": "1"})
    assert run.code == 0, run.output[-3000:]
    assert run.fields["test_result"] == "PASS" and float(run.fields["rss_peak_mb"]) > 0


def test_a_sigkilled_run_leaves_no_stressor(limited_lab, tmp_path):
    pid = sigkill_mid_fault("cpu_stress", limited_lab, tmp_path, {**STRESS_ENV, "STRESS_SECONDS": "120",
                                                                   "STRESS_ORDERS": "4"}, StressDriver, procs.alive)
    gone = wait_until(lambda: procs.alive(pid) or procs.group_members(pid, name="stress-ng"), lambda a: not a,
                      timeout=30, interval=0.05, what="the watchdog to end the stressor")
    assert gone.held, f"stressor {pid} still running after the run was SIGKILLed"
    assert wait_ledger_empty(tmp_path)
    group = from_dict(limited_lab.state.cgroups["trader"])
    # SIGKILLed workers leave the cgroup once the kernel has torn them down: wait for that, with a deadline
    alone = wait_until(group.pids, lambda pids: len(pids) == 1, timeout=10, interval=0.05,
                       what="only the trader in its cgroup")
    assert alone.held, f"only the trader left in its cgroup: {[(p, procs.cmdline(p)[:3], procs.state(p)) for p in group.pids()]}"
