"""Signal torture of the crash drill at ``mid_leader_change`` on a lab of two replicas: ``chaos run`` SIGKILLed at
each step of it (the leader killed; the new leader killed; the old leader started again, the standby not yet)
leaves, within the fault lease, both replicas running (each one killed started again as it ran), exactly one of
them leading, the broker fault proxy without faults and the ledger empty: the watchdog started every trader the
run had killed. The signal lands when the step's event is on the drill's timeline (a condition, not a delay)."""
from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import requests
from drills.kit import CHAOS, ROOT, drill_env, ledger_entries, settle, start_lab

from chaosaitrapp import procs
from chaosaitrapp.deployment.replicas import Replica, leader_values, the_leader
from chaosaitrapp.waiting import wait_until

from .trials import timeline_events

LEASE = 20.0
pytestmark = pytest.mark.torture


def _first_kill(events):
    return any(e.get("event") == "fault_injected" and e.get("fault_name") == "crash" and not e.get("new_leader")
               for e in events)


def _second_kill(events):
    return any(e.get("event") == "fault_injected" and e.get("new_leader") for e in events)


def _leader_restarted(events):
    return any(e.get("event") == "restored" and e.get("dependency") == "trader" for e in events)


STEPS = {"leader_killed": _first_kill, "new_leader_killed": _second_kill, "leader_restarted": _leader_restarted}


@pytest.fixture
def two_replicas():
    # a lab of its own per trial: after a SIGKILL the watchdog starts both replicas at once and either may lead,
    # while the drill needs its API leading
    lab = start_lab(profile="fast", replicas=2)
    yield lab
    lab.down()


@pytest.mark.parametrize("step", list(STEPS))
def test_sigkill_at_each_step_of_mid_leader_change_leaves_both_replicas_running(step, two_replicas, tmp_path):
    lab = two_replicas
    settle(lab)
    services = ("trader", "trader_1")
    env = drill_env(lab, tmp_path, {"CRASH_POINT": "mid_leader_change", "AITRAPP_FAULT_LEASE": f"{LEASE:g}",
                                    "WAIT_READY_TIMEOUT": "20", "RECONCILE_TIMEOUT": "15"})
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    reports.mkdir(parents=True, exist_ok=True)
    chaos = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(tmp_path / "journal.json"),
                              str(ROOT / "experiments" / "trader_crash.json")], env=env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        reached = wait_until(lambda: STEPS[step](timeline_events(reports)), bool, timeout=60, interval=0.005,
                             what=f"the step {step}")
        assert reached.held, f"the drill never reached {step}"
        chaos.send_signal(signal.SIGKILL)
        assert chaos.wait(10) == -9
    finally:
        if chaos.poll() is None:
            chaos.kill()
            chaos.wait(10)
    replicas = [Replica(r["name"], r["api"]) for r in lab.state.replicas]
    whole = wait_until(lambda: (ledger_entries(tmp_path / "state"),
                                [lab.pid(s) is not None and procs.alive(lab.pid(s)) for s in services],
                                the_leader(leader_values(replicas))),
                       lambda seen: seen[0] == [] and all(seen[1]) and seen[2] is not None, timeout=LEASE + 15,
                       interval=0.2, what="both replicas running, one leading, the ledger empty")
    assert whole.held, f"after SIGKILL at {step}: {whole.value}"
    control = lab.state.endpoints["broker_proxy"]
    assert requests.get(control + "/faults", timeout=2).json()["faults"] == [], "no broker fault left"
