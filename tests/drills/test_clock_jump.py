"""The clock drill against a lab whose traders run with the wall-clock shim (``fake_clock``): the wall clock moves and
the monotonic clock does not (in a real trader process), the drill passes on a healthy lab either way, fails on
``lease_on_wall_clock`` (the lock key runs out while the clock is stepped back) and on ``heartbeat_on_wall_clock``
(ages from the wall clock) for their own reasons, refuses bad values with exit 2 before the clock file is
touched, says how to start a target its jump does not reach, and a SIGKILLed run leaves the clock true. The jump to
Kite's token expiry: the trader's clock reads 06:00 IST, the token expires at the broker then, one refresh passes,
``no_token_refresh`` fails."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from chaosaitrapp.clock.driver import ClockDriver
from chaosaitrapp.lab.runtime.config import clock_file
from chaosaitrapp.targets.wallclock import IST, read_clock

from .checks import assert_lab_whole
from .kit import run_drill, run_script, sigkill_mid_fault, start_lab, wait_ledger_empty


def clock_env(lab, **extra: str) -> dict:
    return {"CLOCK_FILE": str(clock_file(lab.directory)), "WAIT_READY_TIMEOUT": "15", **extra}


@pytest.fixture(scope="module")
def clock_lab():
    lab = start_lab(profile="fast", fake_clock=True)
    yield lab
    lab.down()


@pytest.mark.parametrize("jump", ["-300", "+3600", "x0.25"])
def test_the_clock_drill_passes_on_a_healthy_lab(jump, clock_lab, tmp_path):
    run = run_drill("clock_jump", clock_lab, tmp_path, clock_env(clock_lab, CLOCK_JUMP=jump))
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in ("lock_kept_through_jump", "heartbeat_ages_sane", "orders_exactly_once")} \
        == {"lock_kept_through_jump": "pass", "heartbeat_ages_sane": "pass", "orders_exactly_once": "pass"}, found
    landed = next(e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("dependency") == "clock")
    if jump.startswith("x"):  # a drift: seen once the trader's clock lags ours by 2 s
        assert float(landed["offset_seen"]) <= -2 and landed["rate"] == 0.25, landed
    else:  # seen in the trader's own Date header
        assert abs(float(landed["offset_seen"]) - float(jump)) <= 2.5, landed
    reads = [e for e in run.timeline_events() if e.get("event") == "lock_read"]
    assert len(reads) >= 10 and all(e["held"] for e in reads)
    assert read_clock(clock_file(clock_lab.directory)).true
    assert_lab_whole(clock_lab, tmp_path)


def test_the_clock_crosses_the_token_expiry_and_one_refresh_passes(clock_lab, tmp_path):
    run = run_drill("clock_token_expiry", clock_lab, tmp_path, clock_env(clock_lab))
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in ("lock_kept_through_jump", "heartbeat_ages_sane", "token_refresh_bounded",
                                            "orders_exactly_once")} == dict.fromkeys(
        ("lock_kept_through_jump", "heartbeat_ages_sane", "token_refresh_bounded", "orders_exactly_once"), "pass"), found
    events = run.timeline_events()
    crossed = next(e for e in events if e.get("event") == "clock_crossed")
    assert datetime.fromisoformat(crossed["trader_time"]).astimezone(IST).strftime("%H:%M:%S") == "06:00:00", crossed
    expired = next(e for e in events if e.get("event") == "fault_injected"
                   and str(e.get("detail")).startswith("token_invalidated"))
    assert 0 <= float(expired["t"]) - float(crossed["t"]) < 2, (crossed, expired)  # Kite's expiry at the trader's 06:00
    assert read_clock(clock_file(clock_lab.directory)).true
    assert_lab_whole(clock_lab, tmp_path)


def test_the_token_expiry_drill_fails_when_the_trader_never_refreshes(tmp_path):
    lab = start_lab(profile="fast", defects=["no_token_refresh"], fake_clock=True)
    try:
        run = run_drill("clock_token_expiry", lab, tmp_path, clock_env(lab, DETECT_TIMEOUT="8"))
        assert read_clock(clock_file(lab.directory)).true, "the clock is put back"
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    found = run.checks
    assert found["token_refresh_bounded"]["status"] == "fail", found["token_refresh_bounded"]
    assert "no session was created at the broker" in found["token_refresh_bounded"]["reason"]


@pytest.mark.parametrize("defect,jump,check,needle", [
    ("lease_on_wall_clock", "-300", "lock_kept_through_jump", "the leader's lease ran out while its wall clock was off"),
    ("lease_on_wall_clock", "x0.1", "lock_kept_through_jump", "the leader's lease ran out"),  # 0.5 s refresh: 5 s > TTL 3 s
    ("heartbeat_on_wall_clock", "-300", "heartbeat_ages_sane", "heartbeat ages taken from the wall clock"),
], ids=["lease-step-back", "lease-drift", "heartbeat-step-back"])
def test_the_clock_drill_fails_on_a_clock_defect_for_its_reason(defect, jump, check, needle, tmp_path):
    lab = start_lab(profile="fast", defects=[defect], fake_clock=True)
    try:
        run = run_drill("clock_jump", lab, tmp_path, clock_env(lab, CLOCK_JUMP=jump))
        assert read_clock(clock_file(lab.directory)).true, "the clock is put back"
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    found = run.checks
    assert found[check]["status"] == "fail" and needle in found[check]["reason"], found[check]


@pytest.mark.parametrize("env,needle", [({"CLOCK_JUMP": "soon"}, "clock jump must be a signed number"),
                                        ({"CLOCK_JUMP": "+90000"}, "at most 86400s"),
                                        ({"CLOCK_HOLD": "601"}, "hold must be at most 600s")],
                         ids=["not-a-number", "over-a-day", "hold-too-long"])
def test_bad_values_are_refused_and_touch_no_clock(env, needle, clock_lab, tmp_path):
    path = clock_file(clock_lab.directory)
    before = path.stat().st_mtime_ns
    began = time.monotonic()
    run = run_script("chaos_test_clock_jump.sh", clock_lab, tmp_path, {**clock_env(clock_lab), **env,
                                                                      "NONINTERACTIVE": "1", "PAUSE_ON_FAIL": "1"})
    assert run.code == 2 and "REFUSED by the pre-flight" in run.output, f"exit {run.code}\n{run.output[-2000:]}"
    assert any(needle in r for r in run.reasons), run.reasons
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert path.stat().st_mtime_ns == before and read_clock(path).true
    assert not [r for r in run.journal.get("run", []) if r["activity"]["name"] == "step-the-wall-clock"]
    assert time.monotonic() - began < 30


def test_a_target_not_started_with_the_shim_is_named_and_the_clock_put_back(tmp_path):
    """A clock file the trader does not read: the jump never shows in its answers; the drill says how to start
    the target and leaves the file true."""
    lab = start_lab(profile="fast")
    stray = tmp_path / "not-the-traders.offset"
    stray.write_text("+0\n")
    try:
        run = run_drill("clock_jump", lab, tmp_path, {"CLOCK_FILE": str(stray), "WAIT_READY_TIMEOUT": "15"})
    finally:
        lab.down()
    assert run.code != 0 and "is the trader started with the wall-clock shim" in run.output, run.output[-3000:]
    assert read_clock(stray).true and wait_ledger_empty(tmp_path, timeout=5)


def test_a_sigkilled_run_leaves_the_clock_true_and_the_ledger_empty(clock_lab, tmp_path):
    path = clock_file(clock_lab.directory)
    sigkill_mid_fault("clock_jump", clock_lab, tmp_path, clock_env(clock_lab, CLOCK_HOLD="30"), ClockDriver,
                      lambda _: not read_clock(path).true)
    assert wait_ledger_empty(tmp_path, timeout=30), "the watchdog puts the clock back and clears the entry"
    assert read_clock(path).true
    assert_lab_whole(clock_lab, tmp_path)
