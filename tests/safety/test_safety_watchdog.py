"""The watchdog: undo one entry when the run dies or its lease expires, never anything else."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

from safety_helpers import fake_undo, read_log, redis_pings, start_count, wait_for

from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.safety.watchdog import process_start_time, run_alive, spawn_watchdog, wait_watchdog, watch
from chaosaitrapp.targets.process import ProcessDriver

# ---- pid reuse protection (unit) -------------------------------------------------------


def test_run_alive_compares_the_start_time() -> None:
    me = os.getpid()
    start = process_start_time(me)
    assert isinstance(start, float)
    assert run_alive(me, start)
    assert not run_alive(me, start + 1)  # same pid, another process: a reused pid
    assert not run_alive(me, None)  # the run was already gone when the watchdog was spawned


def test_dead_and_zombie_runs_are_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # not reaped yet: a zombie is not a live run
        wait_for(lambda: process_start_time(child.pid) is None, 30, "the child to become a zombie")
        assert Path(f"/proc/{child.pid}").exists()
    finally:
        child.wait(timeout=30)
    assert not run_alive(child.pid, 1)
    assert process_start_time(0) is None and process_start_time(-5) is None


# ---- the loop's decisions, with an injected clock (unit) -------------------------------


class Clock:
    """A Unix clock that only moves when the watchdog sleeps."""

    def __init__(self, t: float) -> None:
        self.t = t
        self.sleeps = 0
        self.on_sleep = lambda: None

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.t += seconds
        self.on_sleep()


def run_watch(ledger: Ledger, entry_id: str, run_pid: int, clock: Clock, alive, lines: List[str], **kw) -> int:
    return watch(ledger, entry_id, run_pid, 123, kw.pop("lease", 1e12), undo_timeout=kw.pop("undo_timeout", 5.0),
                 poll_interval=0.2, clock=clock, sleep=clock.sleep, alive=alive, log=lines.append, **kw)


def test_cleared_entry_ends_the_watch_without_acting(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis")
    entry = ledger.record("stop", "lab:redis", undo, run_pid=777, lease_seconds=60, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    clock.on_sleep = lambda: clock.sleeps == 5 and ledger.clear(entry.id)
    assert run_watch(ledger, entry.id, 777, clock, lambda pid, start: True, lines) == 0
    assert start_count(undo) == 0
    assert clock.sleeps == 5
    assert "cleared, nothing to undo" in lines[-1]


def test_gone_run_is_undone_and_only_its_entry(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    mine, other = fake_undo(tmp_path, "redis"), fake_undo(tmp_path, "pg")
    entry = ledger.record("stop", "lab:redis", mine, run_pid=777, lease_seconds=60, now=lambda: 1000.0)
    bystander = ledger.record("stop", "lab:postgres", other, run_pid=777, lease_seconds=60, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    assert run_watch(ledger, entry.id, 777, clock, lambda pid, start: (pid, start) != (777, 123), lines) == 0
    assert start_count(mine) == 1 and start_count(other) == 0
    assert ledger.outstanding() == [bystander]
    assert any("run pid 777 is gone: undoing" in line for line in lines)
    assert json.dumps(mine["starts"]) not in "".join(lines)  # the recipe is never logged


def test_expired_lease_is_undone_while_the_run_lives(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis")
    entry = ledger.record("stop", "lab:redis", undo, run_pid=777, lease_seconds=2, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    assert run_watch(ledger, entry.id, 777, clock, lambda pid, start: True, lines) == 0
    assert start_count(undo) == 1 and ledger.outstanding() == []
    assert clock.t >= 1002.0
    assert any("lease expired" in line for line in lines)


def test_a_reused_pid_counts_as_a_gone_run(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis")
    me = os.getpid()
    entry = ledger.record("stop", "lab:redis", undo, run_pid=me, lease_seconds=60, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    stale_start = process_start_time(me) - 1  # the run that held this pid started at another time
    code = watch(ledger, entry.id, me, stale_start, 1060.0, undo_timeout=5, poll_interval=0.2,
                 clock=clock, sleep=clock.sleep, log=lines.append)
    assert code == 0 and start_count(undo) == 1 and ledger.outstanding() == []


def test_an_entry_of_another_run_is_left_alone(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis")
    entry = ledger.record("stop", "lab:redis", undo, run_pid=555, lease_seconds=60, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    assert run_watch(ledger, entry.id, 777, clock, lambda pid, start: False, lines) == 3
    assert start_count(undo) == 0 and ledger.outstanding() == [entry]


def test_failing_undo_is_retried_until_the_lifetime_bound(ledger: Ledger, tmp_path: Path, fake_factory: None) -> None:
    undo = fake_undo(tmp_path, "redis", fail=True)
    entry = ledger.record("stop", "lab:redis", undo, run_pid=777, lease_seconds=60, now=lambda: 1000.0)
    clock, lines = Clock(1000.0), []
    assert run_watch(ledger, entry.id, 777, clock, lambda pid, start: False, lines, undo_timeout=5.0) == 1
    failures = [line for line in lines if "failed" in line and "lab:redis" in line]
    assert len(failures) > 1
    assert ledger.outstanding() == [entry]
    assert clock.t <= entry.lease_expires_wall + 5.0 + 10.0 + 1.0


def test_unreadable_ledger_bounds_the_lifetime(ledger: Ledger) -> None:
    ledger.path.parent.mkdir(parents=True)
    ledger.path.write_text("{broken")
    clock, lines = Clock(1000.0), []
    assert run_watch(ledger, "abc", 777, clock, lambda pid, start: False, lines, lease=1010.0) == 2
    assert ledger.path.read_text() == "{broken"
    assert str(ledger.path) in lines[-1]


# ---- the real thing: a detached watchdog process and a real redis-server ----------------

DUMMY_RUN = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from chaosaitrapp.safety.ledger import Ledger
    from chaosaitrapp.safety.watchdog import spawn_watchdog
    ledger_path, target, undo, log = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), Path(sys.argv[4])
    entry = Ledger(ledger_path).record("stop", target, undo, lease_seconds=300, run_id="dummy")
    pid = spawn_watchdog(ledger_path, entry.id, os.getpid(), entry.lease_expires_wall, log, undo_timeout=30)
    print(entry.id, pid, flush=True)
    signal.pause()
    """
)


def idle_run() -> subprocess.Popen:
    """A stand-in for the ``chaos`` process: lives until signalled."""
    return subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])


def test_watchdog_undoes_after_the_run_is_sigkilled(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    log = tmp_path / "watchdog.log"
    target = f"process:{redis_proc.pidfile}"
    run = subprocess.Popen(
        [sys.executable, "-c", DUMMY_RUN, str(ledger.path), target, json.dumps(redis_proc.undo()), str(log)],
        stdout=subprocess.PIPE, text=True,
    )
    spawned_pids.append(run.pid)
    entry_id, watchdog_pid = run.stdout.readline().split()
    spawned_pids.append(int(watchdog_pid))
    assert [e.id for e in ledger.outstanding()] == [entry_id]

    redis_proc.stop(timeout=10)  # the fault, injected by "the run"
    assert not redis_pings(redis_proc.port)
    assert process_start_time(int(watchdog_pid)) is not None  # nothing happens while the run lives
    assert ledger.get(entry_id) is not None

    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    run.stdout.close()
    wait_for(lambda: redis_pings(redis_proc.port) and ledger.outstanding() == [], 60, "the watchdog to restart redis")
    wait_for(lambda: process_start_time(int(watchdog_pid)) is None, 30, "the watchdog to exit")
    text = read_log(log)
    assert f"run pid {run.pid} is gone: undoing" in text
    assert "started and answers again" in text
    assert "--appendonly" not in text  # the recipe is not logged


def test_watchdog_undoes_at_lease_expiry_while_the_run_lives(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    run = idle_run()
    spawned_pids.append(run.pid)
    try:
        redis_proc.stop(timeout=10)
        entry = ledger.record("stop", f"process:{redis_proc.pidfile}", redis_proc.undo(), run_pid=run.pid,
                              lease_seconds=1.0)
        log = tmp_path / "watchdog.log"
        pid = spawn_watchdog(ledger.path, entry.id, run.pid, entry.lease_expires_wall, log, undo_timeout=30)
        spawned_pids.append(pid)
        assert wait_watchdog(pid, 60) == 0
        assert redis_pings(redis_proc.port)
        assert ledger.outstanding() == []
        assert run.poll() is None  # the run still lives: it was the lease that ran out
        assert "lease expired" in read_log(log)
    finally:
        run.kill()
        run.wait(timeout=30)


def test_watchdog_exits_quietly_when_the_entry_is_cleared(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    run = idle_run()
    spawned_pids.append(run.pid)
    try:
        redis_proc.stop(timeout=10)
        entry = ledger.record("stop", f"process:{redis_proc.pidfile}", redis_proc.undo(), run_pid=run.pid,
                              lease_seconds=300)
        log = tmp_path / "watchdog.log"
        pid = spawn_watchdog(ledger.path, entry.id, run.pid, entry.lease_expires_wall, log)
        spawned_pids.append(pid)
        wait_for(lambda: "watching run pid" in read_log(log), 30, "the watchdog to start watching")
        assert ledger.clear(entry.id)  # the run restored the dependency itself
        assert wait_watchdog(pid, 30) == 0
        assert "cleared, nothing to undo" in read_log(log)
        assert not redis_proc.is_running()  # the watchdog started nothing
    finally:
        run.kill()
        run.wait(timeout=30)


def test_spawned_watchdog_is_detached(ledger: Ledger, tmp_path: Path, spawned_pids: List[int]) -> None:
    run = idle_run()
    spawned_pids.append(run.pid)
    try:
        entry = ledger.record("stop", "lab:redis", {"driver": "nonesuch"}, run_pid=run.pid, lease_seconds=300)
        pid = spawn_watchdog(ledger.path, entry.id, run.pid, entry.lease_expires_wall)
        spawned_pids.append(pid)
        assert os.getsid(pid) == pid != os.getsid(0)  # its own session: no terminal signal reaches it
        assert Path(f"/proc/{pid}/fd/0").resolve() == Path("/dev/null")
        ledger.clear(entry.id)
        assert wait_watchdog(pid, 30) == 0
        assert "cleared" in read_log(ledger.path.parent / "watchdog.log")  # the default log
    finally:
        run.kill()
        run.wait(timeout=30)


# ---- started before its entry is written (register_fault's order) ----------------------

#: A stand-in for the ``chaos`` process doing what register_fault does, up to a step given by argv[5]:
#: ``spawn`` (watchdog started, nothing recorded), ``record`` (entry written, not yet confirmed) or
#: ``confirm``; then it waits to be killed, as a run SIGKILLed at that instant.
HANDSHAKE_RUN = textwrap.dedent(
    """
    import json, os, signal, sys, time, uuid
    from pathlib import Path
    from chaosaitrapp.safety.ledger import Ledger
    from chaosaitrapp.safety.watchdog import confirm_watchdog, spawn_watchdog
    ledger_path, target, undo, log, step = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), Path(sys.argv[4]), sys.argv[5]
    entry_id = uuid.uuid4().hex
    pid = spawn_watchdog(ledger_path, entry_id, os.getpid(), time.time() + 300, log, undo_timeout=30,
                         await_record=True)
    if step in ("record", "confirm"):
        Ledger(ledger_path).record("stop", target, undo, lease_seconds=300, run_id="dummy", entry_id=entry_id)
    if step == "confirm":
        confirm_watchdog(pid, True)
    print(entry_id, pid, flush=True)
    signal.pause()
    """
)


def killed_at(step: str, ledger: Ledger, redis_proc: ProcessDriver, log: Path, spawned_pids: List[int]) -> tuple:
    """Run HANDSHAKE_RUN up to ``step``, stop Redis (the fault) when an entry was written, SIGKILL the run;
    its entry id and its watchdog's pid."""
    run = subprocess.Popen([sys.executable, "-c", HANDSHAKE_RUN, str(ledger.path), f"process:{redis_proc.pidfile}",
                            json.dumps(redis_proc.undo()), str(log), step], stdout=subprocess.PIPE, text=True)
    spawned_pids.append(run.pid)
    entry_id, watchdog_pid = run.stdout.readline().split()
    spawned_pids.append(int(watchdog_pid))
    if step != "spawn":
        redis_proc.stop(timeout=10)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    run.stdout.close()
    return entry_id, int(watchdog_pid)


def test_a_run_killed_before_recording_leaves_a_watchdog_that_does_nothing(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    log = tmp_path / "watchdog.log"
    redis_pid = Path(redis_proc.pidfile).read_text().strip()
    _, watchdog_pid = killed_at("spawn", ledger, redis_proc, log, spawned_pids)
    wait_for(lambda: process_start_time(watchdog_pid) is None, 30, "the watchdog to exit")
    assert "never recorded" in read_log(log) and ledger.outstanding() == []
    assert redis_pings(redis_proc.port) and Path(redis_proc.pidfile).read_text().strip() == redis_pid


def test_a_run_killed_between_recording_and_confirming_is_undone(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    log = tmp_path / "watchdog.log"
    _, watchdog_pid = killed_at("record", ledger, redis_proc, log, spawned_pids)
    wait_for(lambda: redis_pings(redis_proc.port) and ledger.outstanding() == [], 60, "the watchdog to restart redis")
    wait_for(lambda: process_start_time(watchdog_pid) is None, 30, "the watchdog to exit")
    assert "is gone: undoing" in read_log(log)


def test_a_confirmed_entry_is_watched_as_ever(
    ledger: Ledger, redis_proc: ProcessDriver, tmp_path: Path, spawned_pids: List[int]
) -> None:
    log = tmp_path / "watchdog.log"
    _, watchdog_pid = killed_at("confirm", ledger, redis_proc, log, spawned_pids)
    wait_for(lambda: redis_pings(redis_proc.port) and ledger.outstanding() == [], 60, "the watchdog to restart redis")
    wait_for(lambda: process_start_time(watchdog_pid) is None, 30, "the watchdog to exit")
    text = read_log(log)
    assert "is gone: undoing" in text and "never recorded" not in text
