"""The seed's entry points: NONINTERACTIVE, prompts, PAUSE_ON_FAIL, exit codes."""
import os
import pty
import select
import subprocess
import time

import pytest
import requests

from .checks import assert_lab_whole
from .kit import ROOT, drill_env, run_script, start_lab

SCRIPTS = {"chaos_test_leader_lock.sh": "leader_lock", "chaos_test_postgres.sh": "postgres_blip",
           "chaos_test_rate_limit.sh": "rate_limit_spike"}


@pytest.fixture(scope="module")
def shared_lab():
    lab = start_lab()
    yield lab
    lab.down()


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_script_passes_noninteractive(script, shared_lab, tmp_path):
    run = run_script(script, shared_lab, tmp_path, {"NONINTERACTIVE": "1"})
    assert run.code == 0, run.output[-3000:]
    assert run.fields["test_result"] == "PASS"
    assert f"== {SCRIPTS[script]}: PASS (exit 0); evidence: {run.log_path}" in run.output
    assert (run.reports / f"{SCRIPTS[script]}_journal.json").exists()
    assert (run.reports / f"{SCRIPTS[script]}_chaostoolkit.log").exists()
    assert_lab_whole(shared_lab, tmp_path)


def test_interactive_without_a_terminal_refuses_and_injects_nothing(shared_lab, tmp_path):
    redis_pid = shared_lab.pid("redis")
    run = run_script("chaos_test_leader_lock.sh", shared_lab, tmp_path)
    assert run.code != 0
    assert "set NONINTERACTIVE=1" in run.output
    assert not list((tmp_path / "reports").glob("*.log")) if (tmp_path / "reports").exists() else True
    assert shared_lab.pid("redis") == redis_pid


def _run_on_pty(answer: bytes, env, timeout=120):
    """Run the leader-lock script on a pseudo-terminal, answer its prompt; (exit code, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "chaos_test_leader_lock.sh")], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True)
    os.close(slave)
    output, answered, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"Proceed? [y/N]" in output:
                os.write(master, answer)
                answered = True
        elif proc.poll() is not None:
            break
    code = proc.wait(timeout=30)
    os.close(master)
    return code, output.decode(errors="replace")


def test_interactive_prompt_no_means_nothing_happens(shared_lab, tmp_path):
    redis_pid = shared_lab.pid("redis")
    code, output = _run_on_pty(b"n\n", drill_env(shared_lab, tmp_path))
    assert code != 0 and "not confirmed: nothing was done" in output
    assert shared_lab.pid("redis") == redis_pid


def test_interactive_prompt_yes_runs_the_drill(shared_lab, tmp_path):
    code, output = _run_on_pty(b"y\n", drill_env(shared_lab, tmp_path))
    assert code == 0, output[-3000:]
    assert "== leader_lock: PASS (exit 0)" in output


def test_pause_on_fail_aborts_a_failed_drill(tmp_path):
    lab = start_lab(defects=["never_pause"])
    try:
        run = run_script("chaos_test_leader_lock.sh", lab, tmp_path, {"NONINTERACTIVE": "1", "PAUSE_ON_FAIL": "1"})
        assert run.code != 0 and run.fields["test_result"] == "FAIL"
        abort = next(r for r in run.journal["rollbacks"] if r["activity"]["name"] == "abort-if-failed-and-pause-on-fail")
        assert abort["status"] == "succeeded" and abort["output"]["aborted"] is True
        assert set(abort["output"]["steps"]) == {"pause", "flatten", "mode"}
        state = requests.get(lab.api + "/state", timeout=2).json()
        assert state["is_paused"] is True and state["mode"] == "PAPER"
    finally:
        lab.down()


def test_without_pause_on_fail_a_failed_drill_does_not_abort(tmp_path):
    lab = start_lab(defects=["never_pause"])
    try:
        run = run_script("chaos_test_leader_lock.sh", lab, tmp_path, {"NONINTERACTIVE": "1"})
        assert run.code != 0 and run.fields["test_result"] == "FAIL"
        abort = next(r for r in run.journal["rollbacks"] if r["activity"]["name"] == "abort-if-failed-and-pause-on-fail")
        assert abort["output"]["aborted"] is False
    finally:
        lab.down()


def test_pause_on_fail_aborts_when_only_a_checker_failed(tmp_path):
    """A failure known only after the rollbacks (a checker) still triggers the abort."""
    lab = start_lab()
    try:
        # a detection limit no real service meets: the drill's waits pass, its checker fails
        run = run_script("chaos_test_leader_lock.sh", lab, tmp_path,
                         {"NONINTERACTIVE": "1", "PAUSE_ON_FAIL": "1", "AITRAPP_CHECK_LIMITS": '{"detect_s": 0.0001}'})
        assert run.code != 0 and run.fields["test_result"] == "FAIL"
        assert any("check time_to_detect_ready failed" in r for r in run.reasons), run.reasons
        rollback = next(r for r in run.journal["rollbacks"] if r["activity"]["name"] == "abort-if-failed-and-pause-on-fail")
        assert rollback["output"]["aborted"] is False, "the rollbacks could not know yet"
        assert set(run.extension["abort"]["done"]) == {"pause", "flatten", "mode"}
        state = requests.get(lab.api + "/state", timeout=2).json()
        assert state["is_paused"] is True and state["mode"] == "PAPER"
    finally:
        lab.down()
