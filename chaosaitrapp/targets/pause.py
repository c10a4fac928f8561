"""Freezing a process and thawing it again: the leader "paused" as a GC pause, a SIGSTOP or a frozen VM
would pause it, as the fault ledger undoes it.

:class:`PauseDriver` (the Driver protocol of :mod:`chaosaitrapp.targets.base`, ledger driver ``pause``):

- a **process**: ``SIGSTOP`` to its process group when it leads one (the lab's traders do: they run in
  a session of their own), else to the process alone; ``SIGCONT`` the same way. Always by pid, and only
  while that pid is still the process that was paused (its start time is recorded), so a recycled pid is
  never signalled;
- a **container**: ``docker pause`` / ``docker unpause`` (the cgroup freezer), by container name.

``stop`` freezes (and returns once the kernel reports the process stopped, or the container paused),
``start`` thaws (idempotent: a process that is gone or already running is fine), ``is_running`` is
True while it is not frozen.
"""
from __future__ import annotations

import os
import signal
from typing import Any, Dict, Optional

from chaosaitrapp import procs
from chaosaitrapp.declare import ref_of
from chaosaitrapp.errors import TargetError, TargetNotFound
from chaosaitrapp.targets.docker_client import connect, explain_docker_error
from chaosaitrapp.waiting import wait_until


class PauseDriver:
    """Freezes one process (``pid`` + its ``started`` time) or one container (``container``)."""

    def __init__(self, *, pid: Optional[int] = None, started: Optional[float] = None,
                 container: Optional[str] = None, label: str = "") -> None:
        if (pid is None) == (container is None):
            raise TargetError("a pause needs exactly one of a pid or a container")
        self.pid = int(pid) if pid is not None else None
        self.started = started if started is not None or self.pid is None else procs.start_time(self.pid)
        self.container = container
        self.label = label or (f"pid {pid}" if pid is not None else f"container {container}")
        if self.pid is not None and self.started is None:
            raise TargetNotFound(f"pause {self.label}: no process with pid {self.pid}", pid=self.pid)

    def describe(self) -> str:
        """``pause:pid:N`` or ``pause:docker:NAME``."""
        return f"pause:pid:{self.pid}" if self.pid is not None else f"pause:docker:{self.container}"

    # ---- processes ----------------------------------------------------------------------------
    def _signal(self, sig: signal.Signals) -> bool:
        """Send ``sig`` to the process group the pid leads (else the pid); False when the process is gone."""
        assert self.pid is not None
        if not procs.same_process(self.pid, self.started):
            return False
        try:
            group = os.getpgid(self.pid)
            if group == self.pid:
                os.killpg(group, sig)
            else:
                os.kill(self.pid, sig)
        except ProcessLookupError:
            return False
        return True

    def _frozen(self) -> bool:
        if self.pid is not None:
            return procs.same_process(self.pid, self.started) and procs.state(self.pid) == "stopped"
        return self._container().status == "paused"

    def _container(self) -> Any:
        client = connect(f"docker:{self.container}")
        try:
            container = client.containers.get(self.container)
            container.reload()
            return container
        except Exception as exc:
            raise explain_docker_error(f"docker:{self.container}", "inspect the container", exc) from None

    # ---- the Driver protocol -------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while the target is not frozen (a process that is gone is not frozen either)."""
        return not self._frozen()

    def answers(self) -> bool:
        """The same as :meth:`is_running`: a thawed process answers for itself."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Freeze it; TargetError when it is gone or not frozen within ``timeout``."""
        if self.pid is not None:
            if not self._signal(signal.SIGSTOP):
                raise TargetNotFound(f"{self.describe()}: the process to pause ({self.label}) is gone", pid=self.pid)
        else:
            container = self._container()
            if container.status != "paused":
                container.pause()
        if not wait_until(self._frozen, bool, timeout=timeout, interval=0.01, what=f"{self.label} frozen").held:
            raise TargetError(f"{self.describe()}: not frozen within {timeout:g}s")

    def start(self, timeout: float = 10.0) -> None:
        """Thaw it (nothing to do when it is gone or runs); TargetError when still frozen at ``timeout``."""
        if self.pid is not None:
            if not procs.same_process(self.pid, self.started):
                return
            self._signal(signal.SIGCONT)
        else:
            container = self._container()
            if container.status == "paused":
                container.unpause()
        if not wait_until(self._frozen, lambda frozen: not frozen, timeout=timeout, interval=0.01,
                          what=f"{self.label} thawed").held:
            raise TargetError(f"{self.describe()}: still frozen {timeout:g}s after it was resumed")

    def undo(self) -> Dict[str, Any]:
        """The ledger recipe."""
        return {"driver": ref_of(PauseDriver), "pid": self.pid, "started": self.started, "container": self.container,
                "label": self.label}

    @classmethod
    def from_undo(cls, undo: Dict[str, Any]) -> "PauseDriver":
        """Rebuild from :meth:`undo`'s dict (a process already gone gives a driver whose start does nothing)."""
        driver = cls.__new__(cls)
        driver.pid = int(undo["pid"]) if undo.get("pid") is not None else None
        driver.started = undo.get("started")
        driver.container = undo.get("container")
        driver.label = str(undo.get("label") or "")
        return driver
