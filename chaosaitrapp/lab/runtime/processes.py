"""Local processes of the lab: launch detached with a pidfile, stop by pid, verify they are gone.

A service is launched with :func:`chaosaitrapp.targets.process.launch_detached` (its own session,
not our child, pid written by the process itself before it execs, output appended to its log): the
same recipe :class:`chaosaitrapp.targets.process.ProcessDriver` uses, so a restart from ``lab.json``
gives the same service back. Stopping sends the spec's stop signal (SIGINT for Postgres, its
"fast" shutdown; SIGTERM otherwise), waits, then SIGKILLs; the process's descendants are checked too.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from chaosaitrapp import procs
from chaosaitrapp.lab.errors import LabError
from chaosaitrapp.targets.labstate import ServiceSpec
from chaosaitrapp.targets.process import launch_detached, read_pid_quietly, runs_command, runs_other_command
from chaosaitrapp.waiting import wait_until

# Variables the lab sets itself: never inherited from the caller's environment.
_SCRUBBED = ("API_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BROKER_URL", "BROKER_API_KEY", "BROKER_API_SECRET",
             "TRADER_MODE", "TRADER_HOST", "TRADER_PORT", "TRADER_INSTANCE_ID", "HEARTBEAT_MAX",
             "AITRAPP_LAB_DEFECTS", "AITRAPP_LAB_PROFILE", "BROKER_HOST", "BROKER_PORT", "BROKER_RATE_LIMIT",
             "BROKER_TOKEN_TTL", "THROTTLE_RATE", "THROTTLE_BURST", "PGPASSWORD", "KITE_API_KEY",
             "KITE_API_SECRET", "KITE_ACCESS_TOKEN", "KITE_ROOT", "KITE_TICKER_ROOT", "AITRAPP_CGROUP_PROCS", "AITRAPP_LAB_ORDER_SPOOL")


#: Where each service's log ended when it was last launched here (log path -> bytes): what it printed since.
_LAUNCH_OFFSETS: Dict[str, int] = {}


def output_since_launch(spec: ServiceSpec, lines: int) -> str:
    """The last ``lines`` lines ``spec``'s process wrote to its log since this process last launched it (the whole
    log's tail when it was not launched here); '' when it wrote nothing."""
    if not spec.log:
        return ""
    try:
        with open(spec.log, "rb") as handle:
            handle.seek(_LAUNCH_OFFSETS.get(spec.log, 0))
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return "".join(text.splitlines(keepends=True)[-lines:])


def read_pid(pidfile: Optional[str]) -> Optional[int]:
    """The pid in ``pidfile``, or None when absent/empty/garbled."""
    return read_pid_quietly(Path(pidfile)) if pidfile else None


def launch_env(spec_env: Mapping[str, str], secrets: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The caller's environment without the lab's own variables, plus ``spec_env`` and ``secrets``."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(spec_env)
    env.update(secrets or {})
    return env


def launch(spec: ServiceSpec, secrets: Optional[Mapping[str, str]] = None, timeout: float = 5.0) -> int:
    """Start ``spec`` detached; its pid (written to ``spec.pidfile``). ``secrets`` go to its env only."""
    if not spec.argv or not spec.pidfile:
        raise LabError(f"lab service {spec.name}: no command or pidfile to start it with", service=spec.name)
    pidfile = Path(spec.pidfile)
    pidfile.unlink(missing_ok=True)
    if spec.log:
        _LAUNCH_OFFSETS[spec.log] = os.path.getsize(spec.log) if os.path.exists(spec.log) else 0
    launch_detached(spec.argv, pidfile, cwd=spec.cwd, env=launch_env(spec.env, secrets), log=spec.log)
    written = wait_until(lambda: read_pid(spec.pidfile), lambda pid: pid is not None, timeout=timeout,
                         interval=0.01, what=f"the pid of lab service {spec.name}")
    if not written.held:
        raise LabError(f"lab service {spec.name}: no pid in {pidfile} after {timeout:.0f}s (see {spec.log})",
                       service=spec.name)
    return int(written.value)


def stop_signal(spec: ServiceSpec) -> signal.Signals:
    """SIGINT for Postgres (fast shutdown: SIGTERM would wait for clients), SIGTERM otherwise."""
    return signal.SIGINT if spec.check == "postgres" else signal.SIGTERM


def _wait_gone(pids: List[int], timeout: float) -> List[int]:
    """The pids of ``pids`` still alive after waiting up to ``timeout`` for all of them to exit."""
    gone = wait_until(lambda: [p for p in pids if procs.alive(p)], lambda alive: not alive, timeout=timeout,
                      interval=0.02, what="lab processes to exit")
    return list(gone.value or [])


def stop(spec: ServiceSpec, timeout: float = 15.0) -> None:
    """Stop the process in ``spec.pidfile`` and its descendants; LabError if any survives SIGKILL.

    A pid that no longer runs ``spec``'s program is left alone (it was recycled).
    """
    pid = running_pid(spec)
    if pid is None:
        return
    family = [pid, *procs.descendants(pid)]
    try:
        os.kill(pid, stop_signal(spec))
    except ProcessLookupError:
        pass
    survivors = _wait_gone(family, timeout)
    for leftover in survivors:
        try:
            os.kill(leftover, signal.SIGKILL)
        except ProcessLookupError:
            pass
    survivors = _wait_gone(survivors, 5.0)
    if survivors:
        raise LabError(f"lab service {spec.name}: pid(s) {survivors} survived SIGKILL", service=spec.name)


#: How long a live process whose command line reads empty (caught inside an exec) is given to show it.
MID_EXEC_S = 1.0


def running_pid(spec: ServiceSpec) -> Optional[int]:
    """The service's pid when it runs (and is still its program), else None. A live process whose command
    line reads empty is in the middle of an exec (the launcher becoming the service): it is read again
    until it shows one, for :data:`MID_EXEC_S` at most, instead of being taken for gone."""
    pid = read_pid(spec.pidfile)
    if pid is None:
        return None
    wait_until(lambda: bool(procs.cmdline(pid)) or not procs.alive(pid), bool, timeout=MID_EXEC_S, interval=0.01,
               what=f"the command line of lab service {spec.name}")
    return pid if runs_command(pid, spec.argv or []) else None


def exited(spec: ServiceSpec) -> bool:
    """True when the service started from ``spec`` is certainly no longer running: no pid, the pid gone
    (or a zombie), or a live pid that shows another program's command line (recycled). A live process
    whose command line reads empty is still inside its exec (on a loaded machine, for longer than
    :data:`MID_EXEC_S`): not exited, so a start is not declared dead while it is only slow."""
    pid = read_pid(spec.pidfile)
    if pid is None or not procs.alive(pid):
        return True
    return runs_other_command(pid, spec.argv or [])
