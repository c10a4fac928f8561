"""The stress actions against a stand-in target (a ``sleep`` in a cgroup of the test's own, named by
``TARGET_PROCESS=pid:N``): bad values inject nothing, the stressor joins the target's cgroup (or runs
beside it), ends on time, is ended by the rollback, and the watchdog ends it when the run that started
it is SIGKILLed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from chaosaitrapp import procs
from chaosaitrapp.errors import ConfigError, TargetNotFound
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.stress import actions
from chaosaitrapp.stress.stressor import StressDriver
from chaosaitrapp.targets.cgroups import cgroup_of, make_cgroup
from chaosaitrapp.waiting import wait_until


@pytest.fixture
def target():
    """A process in a cgroup of its own (0.5 CPU, 256 MiB), as `lab up --cpu-limit` makes for the trader."""
    group = make_cgroup(f"aitrapp-test-stress-{os.getpid()}", 0.5, 256 * 2**20)
    sleeper = subprocess.Popen(["sleep", "120"])
    group.add(sleeper.pid)
    yield {"pid": sleeper.pid, "group": group, "configuration": {"target_process": f"pid:{sleeper.pid}"}}
    actions.end_stress()
    sleeper.kill()
    sleeper.wait()
    assert wait_until(lambda: group.pids(), lambda p: not p, timeout=10, interval=0.05, what="group empty").held
    group.remove()


def stress_processes():
    """Every stress-ng process that is a descendant of this test process (what a leak would leave)."""
    return [p for p in procs.descendants(os.getpid()) if procs.cmdline(p)[:1] and "stress-ng" in procs.cmdline(p)[0]]


@pytest.mark.parametrize("call,message", [
    (lambda c: actions.stress_cpu(seconds=-1, configuration=c), "seconds must be a positive"),
    (lambda c: actions.stress_cpu(seconds=601, configuration=c), "at most 600"),
    (lambda c: actions.stress_cpu(seconds=5, workers=(os.cpu_count() or 1) + 1, configuration=c), "workers must be"),
    (lambda c: actions.stress_cpu(seconds=5, workers=0, configuration=c), "workers must be"),
    (lambda c: actions.stress_cpu(seconds=5, load=150, configuration=c), "load must be"),
    (lambda c: actions.stress_cpu(seconds=5, scope="everywhere", configuration=c), "scope must be one of"),
    (lambda c: actions.stress_memory(seconds=5, vm_bytes="100T", configuration=c), "more than half this machine"),
    (lambda c: actions.stress_memory(seconds=5, vm_bytes="plenty", configuration=c), "vm_bytes must be a size"),
])
def test_bad_values_are_refused_and_inject_nothing(call, message, target):
    with pytest.raises(ConfigError, match=message):
        call(target["configuration"])
    assert Ledger(ledger_path()).outstanding() == [] and stress_processes() == []


def test_an_unknown_target_process_is_named():
    with pytest.raises(ConfigError, match="TARGET_PROCESS"):
        actions.stress_cpu(seconds=2)
    with pytest.raises(TargetNotFound, match="no pid"):
        actions.stress_cpu(seconds=2, configuration={"target_process": "process:/nonexistent/trader.pid"})
    assert Ledger(ledger_path()).outstanding() == [] and stress_processes() == []


def test_the_stressor_joins_the_targets_cgroup_and_ends_on_time(target):
    result = actions.stress_cpu(seconds=2, workers=1, configuration=target["configuration"])
    assert result["where"].startswith("the target's cgroup") and result["target_pid"] == target["pid"]
    entries = Ledger(ledger_path()).outstanding()
    assert [e.undo["driver"] for e in entries] == ["chaosaitrapp.stress.stressor:StressDriver"] and entries[0].undo["pid"] == result["pid"]
    workers = wait_until(lambda: set(target["group"].pids()) - {target["pid"]}, lambda p: len(p) >= 2, timeout=5,
                         interval=0.02, what="the stressor and its worker in the target's cgroup")
    assert workers.held, f"stressor processes in the target's cgroup: {target['group'].pids()}"
    ended = actions.wait_stress_ended(timeout=10)
    # on time: ended by itself, or by the drill's own timer 1 s after its time (stress-ng slow to wind down)
    assert ended["held"] and ended["ended"][0]["overran"] is False
    # an exited worker may be listed in cgroup.procs until whoever inherited it reaps it: none may still run
    left = [p for p in target["group"].pids() if p != target["pid"] and procs.alive(p)]
    assert Ledger(ledger_path()).outstanding() == [] and left == [], f"stressor processes still running: {left}"


def test_the_rollback_ends_a_running_stressor_and_the_host_scope_runs_beside(target):
    result = actions.stress_memory(seconds=60, workers=1, vm_bytes="16M", scope="host",
                                   configuration=target["configuration"])
    assert result["where"] == "host" and cgroup_of(result["pid"]).same_as(cgroup_of(None))
    assert target["group"].pids() == [target["pid"]]
    done = actions.end_stress()
    assert done["ended"][0]["was_running"] and not done["ended"][0]["overran"]
    assert not procs.alive(result["pid"]) and stress_processes() == [] and Ledger(ledger_path()).outstanding() == []
    assert actions.end_stress() == {"ended": [], "from_ledger": 0}  # idempotent


def test_auto_scope_stays_beside_a_target_that_shares_our_cgroup():
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        result = actions.stress_cpu(seconds=1, workers=1, configuration={"target_process": f"pid:{sleeper.pid}"})
        assert result["where"].startswith("host (the target's cgroup is the drill's own)")
        assert actions.wait_stress_ended(timeout=10)["held"]
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_driver_for_a_stressor_that_is_gone_does_nothing():
    driver = StressDriver.from_undo({"driver": "stress", "pid": 999999, "started": 1.0, "argv": ["--cpu", "1"]})
    assert driver.is_running()
    driver.start(1.0)


def test_the_watchdog_ends_the_stressor_of_a_sigkilled_run(target, tmp_path):
    """The process that started the stress dies without a rollback: the watchdog sees its owner gone and
    ends the stressor (long before stress-ng's own --timeout)."""
    script = tmp_path / "owner.py"
    script.write_text("import json, sys, time\nfrom chaosaitrapp.stress.actions import stress_cpu\n"
                      f"r = stress_cpu(seconds=120, workers=1, configuration={json.dumps(target['configuration'])})\n"
                      "print(r['pid'], flush=True)\ntime.sleep(300)\n")
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        pid = int(owner.stdout.readline())
        assert procs.alive(pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        gone = wait_until(lambda: procs.alive(pid) or procs.group_members(pid, name="stress-ng"), lambda a: not a,
                          timeout=30, interval=0.1, what="the watchdog to end the stressor")
        assert gone.held, f"stressor {pid} still running after its owner was SIGKILLed"
        assert wait_until(lambda: Ledger(ledger_path()).outstanding(), lambda e: e == [], timeout=10,
                          interval=0.1, what="the ledger empty").held
        assert set(target["group"].pids()) == {target["pid"]}
    finally:
        if owner.poll() is None:
            owner.kill()


def test_a_launcher_whose_owner_dies_before_go_never_stresses(tmp_path):
    """Between the launch and the ledger record nothing runs: the launcher waits for go on its stdin, and
    the end of that stdin (its owner died) ends it."""
    driver = StressDriver(["--cpu", "1", "--timeout", "30s"], log=str(tmp_path / "stress.log"))
    pid = driver.launch()
    # its argv can read empty for an instant under load (the exec just done): wait for it to read, then judge it
    argv = wait_until(lambda: procs.cmdline(pid), bool, timeout=5, interval=0.01, what="the launcher's argv")
    assert argv.held and argv.value[0] == "/bin/sh" and not driver._is_stress_ng()
    driver._popen.stdin.close()  # what the owner's death does to the pipe
    assert wait_until(driver.exited, lambda code: code == 0, timeout=5, interval=0.02, what="launcher gone").held
    assert not procs.alive(pid) and stress_processes() == []
