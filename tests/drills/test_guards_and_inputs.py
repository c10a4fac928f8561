"""Bad input fails early and injects nothing; LIVE targets are refused; a failed steady state
before the method makes `chaos run` exit non-zero; a dry run injects nothing."""
import time
import uuid
from pathlib import Path

import pytest
import requests

from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.waiting import wait_until

from .checks import assert_lab_whole
from .kit import run_drill, run_script, start_lab


@pytest.fixture(scope="module")
def shared_lab():
    lab = start_lab()
    yield lab
    lab.down()




BAD_INPUTS = [
    ({"REDIS_TARGET": "kubernetes:redis"}, "unknown target scheme 'kubernetes'"),
    ({"REDIS_TARGET": "process:/nonexistent/redis.pid"}, "is not running before the drill"),
    ({"WAIT_READY_TIMEOUT": "-5"}, "wait_ready_timeout must be a positive number"),
    ({"DETECT_TIMEOUT": "-1"}, "detect_timeout must be a positive number"),
    ({"API": "http://trading.example.invalid:8000"}, "is not in the allowed hosts"),
]


@pytest.mark.parametrize("env,message", BAD_INPUTS, ids=[next(iter(e)) + "=" + next(iter(e.values())) for e, _ in BAD_INPUTS])
def test_bad_input_fails_early_naming_the_value_and_injects_nothing(env, message, shared_lab, tmp_path):
    before = shared_lab.pid("redis")
    run = run_drill("leader_lock", shared_lab, tmp_path, env)
    assert run.code != 0
    assert run.fields["test_result"] == "FAIL"
    assert any(message in r for r in run.reasons), f"{message!r} not in {run.reasons}"
    assert not any(r["activity"]["name"] == "stop-redis" for r in run.journal.get("run", [])), "the method ran"
    assert shared_lab.pid("redis") == before, "Redis was touched"
    assert_lab_whole(shared_lab, tmp_path)


def open_position(lab) -> dict:
    """Place one paper order on ``lab`` and wait until it is an open position; returns ``/state``."""
    order = {"client_order_id": "pos" + uuid.uuid4().hex[:12], "symbol": "NIFTY", "side": "BUY", "quantity": 50}
    requests.post(lab.api + "/orders", json=order, timeout=5).raise_for_status()
    seen = wait_until(lambda: requests.get(lab.api + "/state", timeout=2).json(),
                      lambda s: s.get("positions_count", 0) >= 1, timeout=15, interval=0.1, what="an open position")
    assert seen.held, seen.value
    return seen.value


def test_a_refused_drill_acts_on_nothing_and_exits_2_at_once(shared_lab, tmp_path):
    """A mistyped target with PAUSE_ON_FAIL=1: the pre-flight refuses, and then no rollback runs, no abort
    pauses or flattens the target, nothing waits: the seed script exits 2 within seconds."""
    before = open_position(shared_lab)
    began = time.monotonic()
    run = run_script("chaos_test_leader_lock.sh", shared_lab, tmp_path,
                     {"REDIS_TARGET": "nosuch:thing", "PAUSE_ON_FAIL": "1", "NONINTERACTIVE": "1"})
    took = time.monotonic() - began
    assert run.code == 2, run.output[-2000:]
    assert took < 10, f"a refused drill took {took:.1f} s"
    assert "REFUSED by the pre-flight" in run.output
    assert any("unknown target scheme 'nosuch'" in r for r in run.reasons), run.reasons
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert run.fields["abort"].startswith("skipped: nothing was injected")
    assert run.journal["rollbacks"] == [], "a refused drill played its rollbacks"
    after = requests.get(shared_lab.api + "/state", timeout=2).json()
    assert after["is_paused"] is False and after["mode"] == "PAPER"
    assert after["positions_count"] == before["positions_count"], "the refused drill flattened the target"


def test_unreachable_api_fails_early(shared_lab, tmp_path):
    before = shared_lab.pid("redis")
    began = time.monotonic()
    run = run_drill("leader_lock", shared_lab, tmp_path, {"API": f"http://127.0.0.1:{free_port()}"})
    assert time.monotonic() - began < 10, "a mistyped API must not cost the ready wait"
    assert run.code != 0 and run.fields["test_result"] == "FAIL" and run.fields["refused"] == "true"
    assert any("API unreachable" in r for r in run.reasons), run.reasons
    assert shared_lab.pid("redis") == before


def test_failed_steady_state_before_exits_non_zero(shared_lab, tmp_path):
    before = shared_lab.pid("redis")
    requests.post(shared_lab.api + "/pause", timeout=2).raise_for_status()
    try:
        run = run_drill("leader_lock", shared_lab, tmp_path)
    finally:
        requests.post(shared_lab.api + "/resume", timeout=2).raise_for_status()
    assert run.code == 1, "Chaos Toolkit alone exits 0 here; the evidence control must make it 1"
    assert run.fields["test_result"] == "FAIL"
    assert run.extension["ctk_status"] == "completed"
    assert any("before the method not met: orchestrator-not-paused" in r for r in run.reasons), run.reasons
    assert run.journal["rollbacks"] == [], "the method never began: nothing to roll back"
    assert any("rollbacks skipped: the method never began" in n for n in run.extension["notes"])
    assert shared_lab.pid("redis") == before
    assert_lab_whole(shared_lab, tmp_path)


@pytest.mark.parametrize("mode", ["actions", "activities"])
def test_dry_run_injects_nothing_and_reports_dry(mode, shared_lab, tmp_path):
    before = shared_lab.pid("redis")
    run = run_drill("leader_lock", shared_lab, tmp_path, args=["--dry", mode])
    assert shared_lab.pid("redis") == before
    assert run.code == 0, run.output[-2000:]
    assert run.fields["test_result"] == "DRY" and run.extension["verdict"] == "DRY" and run.reasons == []
    waits = [r for r in run.journal["run"] if r["activity"]["name"] == "ready-answers-503"]
    assert all(r["output"] is None or r["output"].get("dry") for r in waits), "waits are skipped, not timed out"
    assert_lab_whole(shared_lab, tmp_path)


def test_dry_run_with_a_bad_value_still_fails(shared_lab, tmp_path):
    run = run_drill("leader_lock", shared_lab, tmp_path, {"REDIS_TARGET": "kubernetes:redis"}, args=["--dry", "actions"])
    assert run.code != 0 and run.fields["test_result"] == "FAIL"


def test_burst_against_live_target_is_refused_and_sends_nothing(tmp_path):
    lab = start_lab(mode="LIVE")
    try:
        assert requests.get(lab.api + "/health", timeout=2).json()["mode"] == "LIVE"
        run = run_drill("rate_limit_spike", lab, tmp_path)
        assert run.code != 0 and run.fields["test_result"] == "FAIL"
        burst = next(r for r in run.journal["run"] if r["activity"]["name"] == "burst-orders")
        assert burst["status"] == "failed"
        assert "refusing to send an order burst" in burst["exception"][-1] and "LIVE" in burst["exception"][-1]
        assert requests.get(lab.api + "/orders", timeout=2).json()["count"] == 0
        broker = lab.state.services["broker"]
        stats = requests.get(f"http://127.0.0.1:{broker.port}/lab/stats", timeout=2).json()
        assert stats["orders"] == 0, f"the broker received orders: {stats}"
    finally:
        lab.down()


def test_continuous_hypothesis_is_refused_when_the_method_breaks_the_steady_state(shared_lab, tmp_path):
    before = shared_lab.pid("redis")
    run = run_drill("leader_lock", shared_lab, tmp_path, args=["--hypothesis-strategy", "continuously"])
    assert run.code != 0 and run.fields["test_result"] == "FAIL"
    assert any("hypothesis strategy 'continuously' cannot be met by this drill" in r for r in run.reasons), run.reasons
    assert shared_lab.pid("redis") == before, "nothing was injected"


def test_rollback_strategy_override_is_said_in_the_evidence(shared_lab, tmp_path):
    run = run_drill("leader_lock", shared_lab, tmp_path, args=["--rollback-strategy", "default"])
    assert run.code == 0, run.reasons
    assert run.fields["rollback_strategy"] == "default"
    assert any("on an interrupt (Ctrl-C; SIGTERM) they are skipped" in line
               for line in run.log_path.read_text().splitlines() if line.startswith("note,"))
    html = Path(run.extension["evidence"]["report"]).read_text()
    assert "rollbacks default" in html
    assert_lab_whole(shared_lab, tmp_path)
