"""The crash drill against the lab: the trader SIGKILLed at each crash point (the broker fault proxy holding the
placement's reply, letting it go, or refusing placements so orders queue) and started again as it ran; it passes
on a healthy lab, fails on ``no_reconcile_on_start`` (orders in doubt for ever), ``resend_on_start`` (a tag twice at
the broker) and ``queue_in_memory`` (acknowledged orders lost) for their own reasons, refuses bad input with exit 2
before anything is killed, and a SIGKILLed run leaves the trader running and the ledger empty."""
from __future__ import annotations

import pytest

from chaosaitrapp.targets.process import pid_alive

from .checks import assert_lab_whole
from .kit import ledger_entries, run_drill, run_script, start_lab

CHECKED = ("orders_reconciled", "orders_exactly_once")


def crash_env(**extra: str) -> dict:
    return {"WAIT_READY_TIMEOUT": "20", "RECONCILE_TIMEOUT": "15", **extra}


def kills(run) -> list:
    return [e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("fault_name") == "crash"]


@pytest.fixture(scope="module")
def crash_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


@pytest.mark.parametrize("point", ["after_broker_ack", "after_reply", "queue_full"])
def test_the_crash_drill_passes_on_a_healthy_lab(point, crash_lab, tmp_path):
    before = crash_lab.pid("trader")
    run = run_drill("trader_crash", crash_lab, tmp_path, crash_env(CRASH_POINT=point))
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in CHECKED} == dict.fromkeys(CHECKED, "pass"), found
    killed = kills(run)
    assert len(killed) == 1 and killed[0]["pid"] == before and killed[0]["point"] == point, killed
    assert not pid_alive(before) and crash_lab.pid("trader") not in (None, before), "a new trader process runs"
    fields = run.fields
    assert fields["test_result"] == "PASS" and fields["resent"] == "0", fields
    assert float(fields["reconciled_s"]) >= 0 and float(fields["leader_back_s"]) >= 0, fields
    if point != "after_reply":  # killed unaware of an order the broker holds, or with orders queued: in doubt
        assert int(fields["orders_in_doubt_max"]) >= 1, fields
    else:  # killed after the reply was let go
        assert killed[0]["dead_after_release_ms"] >= 0, killed
    if point != "queue_full":  # the broker holds the order placed before the crash: one in doubt at the restart
        held = [e for e in run.timeline_events() if e.get("event") == "restored" and e.get("dependency") == "trader"]
        assert held and held[0].get("lock_held_at_restart") in (True, False), held
    assert not ledger_entries(tmp_path / "state"), "the restart left the ledger"
    assert_lab_whole(crash_lab, tmp_path)


def test_the_seed_style_wrapper_runs_the_crash_drill(crash_lab, tmp_path):
    run = run_script("chaos_test_trader_crash.sh", crash_lab, tmp_path,
                     crash_env(NONINTERACTIVE="1", CRASH_POINT="after_broker_ack"))
    assert run.code == 0, run.output[-3000:]
    assert run.fields["check_orders_reconciled"] == "pass" and run.fields["test_result"] == "PASS"


@pytest.mark.parametrize("defect, point, failing, words", [
    ("no_reconcile_on_start", "after_broker_ack", "orders_reconciled", "still in doubt"),
    ("resend_on_start", "after_broker_ack", "orders_exactly_once", "at the broker 2 times"),
    ("queue_in_memory", "queue_full", "orders_exactly_once", "accepted by the API but missing from /orders"),
])
def test_the_crash_drill_fails_on_each_defect_for_its_own_reason(defect, point, failing, words, tmp_path):
    lab = start_lab(profile="fast", defects=[defect])
    try:
        run = run_drill("trader_crash", lab, tmp_path, crash_env(CRASH_POINT=point, RECONCILE_TIMEOUT="6",
                                                                 WAIT_READY_TIMEOUT="12"))
        assert lab.pid("trader") is not None and pid_alive(lab.pid("trader")), "the trader runs again after the drill"
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    found = run.checks
    assert found[failing]["status"] == "fail" and words in found[failing]["reason"], found[failing]
    if defect == "resend_on_start":
        assert run.fields["resent"] == "1", run.fields
    if defect != "no_reconcile_on_start":  # the others converge: nothing is left in doubt
        assert found["orders_reconciled"]["status"] == "pass", found["orders_reconciled"]


@pytest.mark.parametrize("extra, words", [
    ({"CRASH_POINT": "mid_air"}, "unknown crash point 'mid_air'"),
    ({"CRASH_DELAY_MS": "5000"}, "crash_delay_ms must be a number of milliseconds"),
    ({"TARGET_PROCESS": "pid:1"}, "names no way to"),
])
def test_bad_input_is_refused_before_anything_is_killed(extra, words, crash_lab, tmp_path):
    before = crash_lab.pid("trader")
    run = run_script("chaos_test_trader_crash.sh", crash_lab, tmp_path, crash_env(NONINTERACTIVE="1", **extra))
    assert run.code == 2 and "REFUSED by the pre-flight" in run.output, f"exit {run.code}\n{run.output[-2000:]}"
    assert any(words in r for r in run.reasons), run.reasons
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert crash_lab.pid("trader") == before and pid_alive(before), "nothing was killed"
    assert not ledger_entries(tmp_path / "state")


def test_the_crash_drill_passes_under_the_aitrapp_profile(tmp_path):
    """AITRAPP's own timing (30 s TTL): the restarted trader waits out its dead self's key, then reconciles."""
    lab = start_lab(profile="aitrapp")
    try:
        run = run_drill("trader_crash", lab, tmp_path, {"WAIT_READY_TIMEOUT": "60", "RECONCILE_TIMEOUT": "60",
                                                        "DETECT_TIMEOUT": "15"})
    finally:
        lab.down()
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    assert run.checks["orders_reconciled"]["status"] == "pass"
    fields = run.fields
    assert float(fields["stale_key_s"]) > 0, "the dead trader's key was still there at the restart"
    assert float(fields["leader_back_s"]) <= float(fields["reconciled_s"]), fields


def test_mid_leader_change_kills_the_new_leader_as_it_wins_and_both_come_back(tmp_path):
    """Two replicas: the leader killed with an order in doubt, then the standby the moment its grant is in the lock
    key; both started again as they ran, one leads, no order in doubt, none sent twice."""
    lab = start_lab(profile="fast", replicas=2)
    try:
        before = {service: lab.pid(service) for service in ("trader", "trader_1")}
        run = run_drill("trader_crash", lab, tmp_path, crash_env(CRASH_POINT="mid_leader_change", CRASH_DELAY_MS="20"))
        after = {service: lab.pid(service) for service in ("trader", "trader_1")}
    finally:
        lab.down()
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in CHECKED} == dict.fromkeys(CHECKED, "pass"), found
    killed = kills(run)
    assert [k["pid"] for k in killed] == [before["trader"], before["trader_1"]], killed
    assert killed[1]["new_leader"] is True and 20 <= killed[1]["won_to_kill_ms"] < 1000, killed[1]
    assert all(after[s] not in (None, before[s]) for s in after), (before, after)
    assert run.fields["resent"] == "0" and float(run.fields["reconciled_s"]) >= 0, run.fields
    assert not ledger_entries(tmp_path / "state"), "both restarts left the ledger"


def test_mid_leader_change_is_refused_with_one_replica(crash_lab, tmp_path):
    before = crash_lab.pid("trader")
    run = run_script("chaos_test_trader_crash.sh", crash_lab, tmp_path,
                     crash_env(NONINTERACTIVE="1", CRASH_POINT="mid_leader_change"))
    assert run.code == 2 and any("needs at least two replicas" in r for r in run.reasons), run.output[-2000:]
    assert crash_lab.pid("trader") == before and pid_alive(before), "nothing was killed"
    assert not ledger_entries(tmp_path / "state")


def test_mid_leader_change_fails_when_the_restarted_leader_forgets_its_orders(tmp_path):
    lab = start_lab(profile="fast", replicas=2, defects=["no_reconcile_on_start"])
    try:
        run = run_drill("trader_crash", lab, tmp_path, crash_env(CRASH_POINT="mid_leader_change", RECONCILE_TIMEOUT="6"))
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    found = run.checks["orders_reconciled"]
    assert found["status"] == "fail" and "still in doubt" in found["reason"], found
    assert len(kills(run)) == 2, "the leader and then the new leader were killed"
    assert not ledger_entries(tmp_path / "state")
