"""After an interrupted drill the rollback restores the dependency and then requires /ready to stay
200 for a settle time (the service may not have noticed the fault yet); after a clean drill it
does not wait for nothing."""
import json
import signal
import subprocess

from chaosaitrapp.waiting import wait_until

from .checks import assert_lab_whole
from .kit import CHAOS, ROOT, drill_env, run_drill, start_lab


def confirm_output(journal):
    step = next(r for r in journal["rollbacks"] if r["activity"]["name"] == "confirm-ready-after-rollback")
    assert step["status"] == "succeeded", step
    return step["output"]


def test_interrupted_drill_settles_clean_drill_does_not(tmp_path):
    lab = start_lab()
    try:
        clean = run_drill("leader_lock", lab, tmp_path / "clean")
        assert clean.code == 0 and confirm_output(clean.journal)["stable_for"] == 0

        env = drill_env(lab, tmp_path / "int")
        reports = tmp_path / "int" / "reports"
        reports.mkdir(parents=True)
        proc = subprocess.Popen([CHAOS, "--no-version-check", "--log-file", str(reports / "ctk.log"), "run", "--journal-path",
                                 str(reports / "journal.json"), str(ROOT / "experiments" / "leader_lock.json")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                env=env, cwd=ROOT)

        def fault_in_place():
            return any('"fault_injected"' in p.read_text() for p in reports.glob("*.timeline.jsonl"))

        assert wait_until(fault_in_place, bool, timeout=60, interval=0.01).held, "the drill never injected"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        journal = json.loads((reports / "journal.json").read_text())
        assert journal["status"] in ("interrupted", "failed")
        restore = next(r for r in journal["rollbacks"] if r["activity"]["name"] == "restore-redis")
        assert restore["output"]["already_running"] is False, "the rollback, not the method, restored Redis"
        assert confirm_output(journal)["stable_for"] == 1.5  # three fast-lab refresh periods of 0.5 s
        assert_lab_whole(lab, tmp_path / "int")
    finally:
        lab.down()
