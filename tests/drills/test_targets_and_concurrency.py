"""Real drills: an explicitly named container wins over the lab; a lab that is not the drill's target is
not trusted; two drills at once on one machine keep their faults for as long as they planned."""
import json
import subprocess

from chaosaitrapp.testing.waits import wait_for

from .checks import assert_lab_whole
from .kit import CHAOS, ROOT, DrillRun, drill_env, run_drill, run_script, start_lab


def test_an_explicit_container_wins_over_a_lab_that_is_up(tmp_path):
    lab = start_lab()
    try:
        before = lab.pid("redis")
        run = run_script("chaos_test_leader_lock.sh", lab, tmp_path,
                         {"NONINTERACTIVE": "1", "REDIS_CONTAINER": "no-such-container"})
        assert run.code != 0 and run.fields["test_result"] == "FAIL", run.output[-3000:]
        assert any("no-such-container" in r and r.startswith("pre-flight refused") for r in run.reasons), run.reasons
        assert not any(r["activity"]["name"] == "stop-redis" for r in run.journal.get("run", [])), "the method ran"
        assert lab.pid("redis") == before, "the lab's Redis was touched"
    finally:
        lab.down()


def test_a_lab_that_serves_another_api_is_not_the_target(tmp_path):
    lab_a, lab_b = start_lab(), start_lab()
    try:
        before = lab_a.pid("redis"), lab_b.pid("redis")
        # the drill aims at lab B's API while lab A's state is the one on the machine
        run = run_drill("leader_lock", lab_a, tmp_path, {"API": lab_b.api}, args=["--dry", "actions"])
        assert run.code != 0
        assert any("docker:redis" in r for r in run.reasons), \
            f"auto must behave as against a real deployment (docker:redis), not lab A: {run.reasons}"
        assert (lab_a.pid("redis"), lab_b.pid("redis")) == before
    finally:
        lab_a.down()
        lab_b.down()


def _timeline_events(reports):
    events = []
    for path in reports.glob("*.timeline.jsonl"):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("kind") == "event":
                events.append(record)
    return events


def test_two_drills_at_once_keep_their_faults(tmp_path):
    lab_a, lab_b = start_lab(), start_lab()
    state = tmp_path / "shared-state"  # one ledger for both, as two CI jobs on one runner
    try:
        env_a = drill_env(lab_a, tmp_path / "a", {"AITRAPP_CHAOS_STATE": str(state), "OUTAGE_SECONDS": "4"})
        reports_a = tmp_path / "a" / "reports"
        reports_a.mkdir(parents=True)
        drill_a = subprocess.Popen([CHAOS, "--no-version-check", "--log-file", str(reports_a / "ctk.log"), "run",
                                    "--journal-path", str(reports_a / "journal.json"),
                                    str(ROOT / "experiments" / "postgres_blip.json")],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env_a, cwd=ROOT,
                                   stdin=subprocess.DEVNULL, text=True)
        try:
            wait_for(lambda: any(e["event"] == "fault_injected" for e in _timeline_events(reports_a)), 60,
                     "drill A to stop its Postgres")
            entries = json.loads((state / "ledger.json").read_text())["entries"]
            assert len(entries) == 1 and entries[0]["target"].endswith("postgres.pid")
            # drill B starts while A's fault is in place: its pre-flight cleanup must leave A's fault alone
            run_b = run_drill("leader_lock", lab_b, tmp_path / "b", {"AITRAPP_CHAOS_STATE": str(state)})
            assert run_b.code == 0, f"{run_b.reasons}\n{run_b.output[-3000:]}"
            output_a, _ = drill_a.communicate(timeout=120)
        finally:
            if drill_a.poll() is None:
                drill_a.kill()
                drill_a.wait()
        journal_a = json.loads((reports_a / "journal.json").read_text())
        run_a = DrillRun(drill_a.returncode, output_a, reports_a, journal_a)
        assert run_a.code == 0, f"{run_a.reasons}\n{output_a[-3000:]}"
        events = _timeline_events(reports_a)
        fault = next(e for e in events if e["event"] == "fault" and "postgres" in str(e["target"]))
        restore = next(e for e in events if e["event"] == "restore" and "postgres" in str(e["target"]))
        assert restore["t"] - fault["t"] >= 4.0, "drill A's fault was undone before its planned 4 s outage"
        watchdog_log = (state / "watchdog.log").read_text() if (state / "watchdog.log").exists() else ""
        assert "undone: " not in watchdog_log, f"a watchdog undid a live drill's fault:\n{watchdog_log}"
        assert_lab_whole(lab_a, ledger=state / "ledger.json")
        assert_lab_whole(lab_b, ledger=state / "ledger.json")
    finally:
        lab_a.down()
        lab_b.down()
