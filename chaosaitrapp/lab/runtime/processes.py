"""Local processes of the lab: launch detached with a pidfile, stop by pid, verify they are gone.

A service is launched as ``setsid -f sh -c 'echo $$ > PIDFILE; exec ARGV'``: its own session, not
our child (no zombie in the caller, survives the caller), pid written by the process itself
before it execs, output appended to its log. The same recipe is what
:class:`chaosaitrapp.targets.process.ProcessDriver` uses, so a restart from ``lab.json`` gives the
same service back. Stopping sends the spec's stop signal (SIGINT for Postgres, its fast shutdown;
SIGTERM otherwise), waits, then SIGKILLs; the process's descendants are checked too.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional

from chaosaitrapp.lab.errors import LabError
from chaosaitrapp.lab.state import ServiceSpec
from chaosaitrapp.targets.process import launch_detached, pid_alive  # noqa: F401 (pid_alive re-exported)

# Variables the lab sets itself: never inherited from the caller's environment.
_SCRUBBED = ("API_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "BROKER_URL", "BROKER_API_KEY", "BROKER_API_SECRET",
             "TRADER_MODE", "TRADER_HOST", "TRADER_PORT", "TRADER_INSTANCE_ID", "HEARTBEAT_MAX",
             "AITRAPP_LAB_DEFECTS", "AITRAPP_LAB_PROFILE", "BROKER_HOST", "BROKER_PORT", "BROKER_RATE_LIMIT",
             "BROKER_TOKEN_TTL", "THROTTLE_RATE", "THROTTLE_BURST", "PGPASSWORD")


def read_pid(pidfile: Optional[str]) -> Optional[int]:
    """The pid in ``pidfile``, or None when absent/empty/garbled."""
    if not pidfile:
        return None
    try:
        return int(Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: int) -> List[str]:
    """The process's argv (empty when gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def pid_matches(pid: int, spec: ServiceSpec) -> bool:
    """True when ``pid`` runs ``spec``'s program (guards against a recycled pid).

    Exact argv, the launcher about to exec it, or the program name (Redis rewrites its title to
    ``redis-server 127.0.0.1:PORT``; ``setpriv`` execs Postgres, so its argv is the part after ``--``).
    """
    actual = cmdline(pid)
    if not actual or not spec.argv:
        return False
    if actual == list(spec.argv) or _launching(actual, spec.argv):
        return True  # the exact command, or caught between its launcher's `echo $$` and `exec`
    expected = list(spec.argv)
    if "--" in expected and os.path.basename(expected[0]) == "setpriv":
        expected = expected[expected.index("--") + 1:]
    if actual == expected:
        return True
    program = os.path.basename(expected[0])
    first = os.path.basename(actual[0].split()[0])
    return program not in ("python", "python3", "sh") and not program.startswith("python") and first == program


def _launching(actual: List[str], argv: List[str]) -> bool:
    """True for the detached launcher (``sh -c 'echo $$ > PIDFILE; exec "$@"' PIDFILE ARGV...``)
    that has written the pid but not yet exec'd ``argv``: the same pid becomes the service."""
    return (os.path.basename(actual[0]) in ("sh", "dash", "bash") and len(actual) > len(argv)
            and actual[-len(argv):] == list(argv))


def children(pid: int) -> List[int]:
    """Every live descendant of ``pid``."""
    parents: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found: List[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


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
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.unlink(missing_ok=True)
    launch_detached(spec.argv, pidfile, cwd=spec.cwd, env=launch_env(spec.env, secrets), log=spec.log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = read_pid(spec.pidfile)
        if pid is not None:
            return pid
        time.sleep(0.01)  # poll interval (deadline above)
    raise LabError(f"lab service {spec.name}: no pid in {pidfile} after {timeout:.0f}s (see {spec.log})",
                   service=spec.name)


def stop_signal(spec: ServiceSpec) -> signal.Signals:
    """SIGINT for Postgres (fast shutdown: SIGTERM would wait for clients), SIGTERM otherwise."""
    return signal.SIGINT if spec.check == "postgres" else signal.SIGTERM


def _wait_gone(pids: List[int], timeout: float) -> List[int]:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)  # poll interval (deadline above)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def stop(spec: ServiceSpec, timeout: float = 15.0) -> None:
    """Stop the process in ``spec.pidfile`` and its descendants; LabError if any survives SIGKILL.

    A pid that no longer runs ``spec``'s program is left alone (it was recycled).
    """
    pid = read_pid(spec.pidfile)
    if pid is None or not pid_alive(pid):
        return
    if not pid_matches(pid, spec):
        return
    family = [pid, *children(pid)]
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


def running_pid(spec: ServiceSpec) -> Optional[int]:
    """The service's pid when it runs (and is still its program), else None."""
    pid = read_pid(spec.pidfile)
    if pid is not None and pid_alive(pid) and pid_matches(pid, spec):
        return pid
    return None
