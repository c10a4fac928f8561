"""The Redis stall drill (a gray failure: Redis up, connected, answering nothing): passes against a healthy
lab, fails for its reason against ``no_redis_timeout`` (with ``no_fencing``, so nothing else holds the late
orders), refuses bad lengths before anything is stalled, and a SIGKILLed run leaves Redis answering and the
ledger empty (the watchdog waits the stall out)."""
from __future__ import annotations

import json
import time

import pytest
import redis

from chaosaitrapp.controls.inference import checks_of
from chaosaitrapp.gray.stall import RedisStallDriver

from .checks import assert_lab_whole
from .kit import ROOT, run_drill, run_script, sigkill_mid_fault, start_lab, wait_ledger_empty

ENV = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "15"}


@pytest.fixture(scope="module")
def fast_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


def redis_answers(lab) -> bool:
    client = redis.Redis.from_url(lab.state.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def test_the_stall_drill_passes_on_a_healthy_lab(fast_lab, tmp_path):
    run = run_drill("redis_stall", fast_lab, tmp_path, ENV)
    assert run.code == 0, f"exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.extension["verdict"] == "PASS" and run.fields["test_result"] == "PASS"
    experiment = json.loads((ROOT / "experiments" / "redis_stall.json").read_text())
    found = run.checks
    assert list(found) == checks_of(experiment) and all(c["status"] == "pass" for c in found.values()), found
    stopped, lease = float(run.fields["trading_stopped_s"]), float(run.fields["lease_could_expire_s"])
    assert stopped < lease, "trading stops before the lease could run out"
    assert "the stall of redis" in found["trading_stopped_before_lease_expiry"]["reason"]
    stall = next(e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("fault_name") == "stall")
    assert float(stall["seconds"]) > lease, "a stall of the lease's length outlasts the time the lease could run out"
    assert redis_answers(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_the_stall_drill_fails_when_the_redis_client_has_no_timeout(tmp_path):
    lab = start_lab(profile="fast", defects=["no_redis_timeout", "no_fencing"])
    try:
        run = run_drill("redis_stall", lab, tmp_path, ENV)
        assert redis_answers(lab)
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    reasons = " | ".join(run.reasons)
    for part in ("check trading_stopped_before_lease_expiry failed", "check no_order_after_lease_expiry failed"):
        assert part in reasons, f"expected {part!r} among the reasons: {reasons}"
    ledger = tmp_path / "state" / "ledger.json"
    assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []


@pytest.mark.parametrize("seconds", ["-1", "601"], ids=["negative", "too-long"])
def test_a_bad_stall_length_is_refused_and_stalls_nothing(seconds, fast_lab, tmp_path):
    began = time.monotonic()
    run = run_drill("redis_stall", fast_lab, tmp_path, {**ENV, "STALL_SECONDS": seconds})
    assert run.code != 0 and run.extension.get("refused") is True and run.extension["injected"] is False, \
        f"exit {run.code}\n{run.output[-2000:]}"
    assert "stall seconds must be between 0 and 600" in " | ".join(run.reasons), run.reasons
    assert not [r for r in run.journal.get("run", []) if r["activity"]["name"] == "stall-redis"], "nothing stalled"
    assert time.monotonic() - began < 30 and redis_answers(fast_lab)


def test_the_seed_style_wrapper_runs_it(fast_lab, tmp_path):
    run = run_script("chaos_test_redis_stall.sh", fast_lab, tmp_path, {**ENV, "NONINTERACTIVE": "1",
                                                                        "STALL_SECONDS": "4"})
    assert run.code == 0, run.output[-3000:]
    assert run.fields["test_result"] == "PASS"


def test_a_sigkilled_run_leaves_redis_answering_and_the_ledger_empty(fast_lab, tmp_path):
    sigkill_mid_fault("redis_stall", fast_lab, tmp_path, {**ENV, "STALL_SECONDS": "6"}, RedisStallDriver,
                      lambda _: not redis_answers(fast_lab))
    assert wait_ledger_empty(tmp_path, timeout=30), "the watchdog waits the stall out and clears it"
    assert redis_answers(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_the_brief_stall_drill_passes_on_a_healthy_lab(fast_lab, tmp_path):
    run = run_drill("redis_stall_brief", fast_lab, tmp_path, ENV)
    assert run.code == 0, f"exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    experiment = json.loads((ROOT / "experiments" / "redis_stall_brief.json").read_text())
    found = run.checks
    assert list(found) == checks_of(experiment) and all(c["status"] == "pass" for c in found.values()), found
    assert "trading_stopped_before_lease_expiry" not in found, "a brief stall requires no pause"
    stall = next(e for e in run.timeline_events() if e.get("event") == "fault_injected" and e.get("fault_name") == "stall")
    assert stall["brief"] is True and float(stall["seconds"]) == 1.25, "0: half of TTL 3 s minus refresh 0.5 s"
    assert redis_answers(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


def test_the_brief_stall_drill_fails_when_the_lock_is_never_taken_again(tmp_path):
    lab = start_lab(profile="fast", defects=["never_reacquire"])
    try:
        run = run_drill("redis_stall_brief", lab, tmp_path, ENV)
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    assert "ready-again" in " | ".join(run.reasons), run.reasons


@pytest.mark.parametrize("drill,seconds,needle", [
    ("redis_stall", "2", "a stall of 2s cannot make the lease run out"),
    ("redis_stall_brief", "3", "a brief stall must end before the lease could run out")])
def test_a_stall_on_the_wrong_side_of_the_lease_window_is_refused(drill, seconds, needle, fast_lab, tmp_path):
    """The pre-flight holds the length against the lease window (the timing learned from the lock key): exit 2,
    nothing stalled, no order sent, no rollback."""
    run = run_script(f"chaos_test_{drill}.sh", fast_lab, tmp_path, {**ENV, "STALL_SECONDS": seconds,
                                                                     "NONINTERACTIVE": "1"})
    assert run.code == 2 and any(needle in r for r in run.reasons), (run.code, run.reasons)
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert run.journal.get("run", []) == [] and run.journal.get("rollbacks", []) == [], "acted on nothing"
    assert redis_answers(fast_lab)
