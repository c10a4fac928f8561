"""One ``stress-ng`` run as a fault the ledger can undo: :class:`StressDriver` (ledger driver ``stress``).

The stressor is a process of ours in a process group (and session) of its own, started by a shell
that first moves itself into the target's cgroup when asked (so every worker stress-ng forks starts
inside it, competing within the target's CPU and memory limits, as Chaos Mesh's StressChaos does), then
execs ``stress-ng`` with its own ``--timeout``. It is ended only by its process group, and only while
the group's leader is still the process that was started (pid + start time), or, once the leader is
gone, the ``stress-ng`` processes still in that group that started after it: never by name alone.

Driver protocol (as the ledger, the watchdog and cleanup use it): :meth:`StressDriver.start` ends the
stress (the target is back to normal; idempotent), :meth:`StressDriver.is_running` is True once no
stressor of this run is left.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

from chaosaitrapp import procs
from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.waiting import wait_until

#: The launcher waits for a line on its stdin (:meth:`StressDriver.go`; end of file, its owner died before
#: the fault was in the ledger: it exits), joins the cgroup(s) whose ``cgroup.procs`` files
#: ``$AITRAPP_CGROUP_PROCS`` names, then becomes stress-ng (same pid, same start time).
_LAUNCHER = ('read go || exit 0; [ "$go" = go ] || exit 0; '
             'for f in $AITRAPP_CGROUP_PROCS; do echo $$ > "$f" || exit 97; done; exec "$@"')
PROGRAM = "stress-ng"


def stress_ng() -> str:
    """The ``stress-ng`` executable; ConfigError when it is not installed."""
    found = shutil.which(PROGRAM)
    if not found:
        raise ConfigError("stress-ng is not installed (apt-get install stress-ng; `make install` does it)",
                          key="stress")
    return found


class StressDriver:
    """One stress-ng run: ``argv`` (its arguments after the program), the ``cgroup_procs`` files it joins
    (empty: it runs where we do), and once launched its ``pid`` and ``started`` time."""

    def __init__(self, argv: List[str], *, cgroup_procs: Optional[List[str]] = None, label: str = "",
                 log: Optional[str] = None) -> None:
        self.argv = list(argv)
        self.cgroup_procs = list(cgroup_procs or [])
        self.label = label or " ".join(argv)
        self.log = log
        self.pid: Optional[int] = None
        self.started: Optional[float] = None
        self._popen: Optional[subprocess.Popen] = None

    def describe(self) -> str:
        """``stress:pid:N`` once launched (``stress:LABEL`` before)."""
        return f"stress:pid:{self.pid}" if self.pid is not None else f"stress:{self.label}"

    def launch(self) -> int:
        """Start the stressor's launcher, waiting for :meth:`go` (module docstring); its pid, which stays
        the stressor's. TargetError when it cannot start."""
        env = {**os.environ, "AITRAPP_CGROUP_PROCS": " ".join(self.cgroup_procs)}
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        try:
            self._popen = subprocess.Popen(["/bin/sh", "-c", _LAUNCHER, "sh", stress_ng(), *self.argv], env=env,
                                           stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        self.pid = self._popen.pid
        self.started = procs.start_time(self.pid)
        if self.started is None:
            code = self._popen.wait(5)
            raise TargetError(f"{self.describe()}: stress-ng ended at once (exit {code}; see {self.log})")
        return self.pid

    def go(self, timeout: float = 5.0) -> None:
        """Let the launched stressor run (once its recipe is in the ledger); TargetError when it could not
        join the cgroup or ended at once."""
        assert self._popen is not None and self._popen.stdin is not None
        try:
            self._popen.stdin.write(b"go\n")
            self._popen.stdin.close()
        except BrokenPipeError:
            pass
        started = wait_until(lambda: self._popen.poll() is not None or self._is_stress_ng(), bool, timeout=timeout,
                             interval=0.01, what=f"{self.describe()} started")
        code = self._popen.poll()
        if code is not None and code != 0 or not started.held:
            raise TargetError(f"{self.describe()}: stress-ng did not start (exit {code}"
                              f"{', it could not join the cgroup' if code == 97 else ''}; see {self.log})")

    def _is_stress_ng(self) -> bool:
        """True once the launcher has become stress-ng (exec'd; before, stress-ng is only its argument)."""
        argv = procs.cmdline(self.pid or 0)
        return bool(argv) and os.path.basename(argv[0]) == PROGRAM

    def exited(self) -> Optional[int]:
        """The stressor's exit code once it ended (in this process: reaps it), else None."""
        return self._popen.poll() if self._popen is not None else None

    def _members(self) -> List[int]:
        """The live processes of the stressor's group that belong to it (module docstring)."""
        if self.pid is None or self.started is None:
            return []
        if procs.same_process(self.pid, self.started):
            return [self.pid, *procs.group_members(self.pid, self.started)]
        return procs.group_members(self.pid, self.started, name=PROGRAM)

    # ---- the Driver protocol -------------------------------------------------------------------
    def is_running(self) -> bool:
        """True once no process of this stressor is left (the target runs unstressed)."""
        self.exited()
        return not self._members()

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Start stressing (:meth:`launch`, then :meth:`go`)."""
        self.launch()
        self.go()

    def start(self, timeout: float = 10.0) -> None:
        """End the stress: SIGKILL to the group while its leader is ours, else to each member left; returns
        once none is left. TargetError when some survive ``timeout``."""
        members = self._members()
        if self.pid is not None and members and procs.same_process(self.pid, self.started):
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not wait_until(lambda: self.is_running(), bool, timeout=timeout, interval=0.02,
                          what=f"{self.describe()} gone").held:
            raise TargetError(f"{self.describe()}: processes {self._members()} still run {timeout:g}s after SIGKILL")

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe."""
        return {"driver": ref_of(StressDriver), "pid": self.pid, "started": self.started, "argv": self.argv,
                "cgroup_procs": self.cgroup_procs, "label": self.label}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "StressDriver":
        """Rebuild from :meth:`undo`'s dict (in the watchdog or cleanup: ends what is left of it)."""
        driver = cls(list(undo.get("argv") or []), cgroup_procs=list(undo.get("cgroup_procs") or []),
                     label=str(undo.get("label") or ""))
        driver.pid = int(undo["pid"]) if undo.get("pid") is not None else None
        driver.started = undo.get("started")
        return driver


def log_path(directory: Path, name: str) -> str:
    """Where a stressor's output goes: ``<directory>/<name>.stress.log``."""
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory / f"{name}.stress.log")
