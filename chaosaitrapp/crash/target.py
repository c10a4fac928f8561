"""The trader as a crash target: killed at once (SIGKILL of its process; of a container's main process, by its
host pid: ``docker kill`` is slower than the instants the drill aims at) and started again as it ran.

The trader is named as the stress drills name it (``TARGET_PROCESS``, or the deployment description's; the
lab's names ``lab:trader``): ``process:PIDFILE`` and a lab process are started again with the command line,
directory, user and environment read from the running process before the kill
(:meth:`chaosaitrapp.targets.process.ProcessDriver.capture`: the ledger holds the names of its environment
variables, never their values); ``docker:NAME`` by starting its container again. ``pid:N`` names a process
nobody could start again: a crash drill refuses it before anything is touched.
"""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from chaosaitrapp import procs
from chaosaitrapp.config import value
from chaosaitrapp.errors import ConfigError, TargetError, TargetNotFound
from chaosaitrapp.stress.family import TARGET_PROCESS
from chaosaitrapp.targets.docker import DockerDriver, docker_driver
from chaosaitrapp.targets.labstate import load_state
from chaosaitrapp.targets.process import ProcessDriver
from chaosaitrapp.targets.processref import check_target, locate
from chaosaitrapp.waiting import wait_until

#: The schemes of a trader the drill can start again.
RESTARTABLE = ("process", "docker", "lab")


@dataclass
class CrashTarget:
    """The trader to kill: ``spec`` (the target string) and ``driver`` (its ``start`` brings it back as it ran)."""

    spec: str
    driver: Any

    def describe(self) -> str:
        """The driver's name for it (``process:<pidfile>``, ``docker:<name>``)."""
        return str(self.driver.describe())

    def pid(self) -> Optional[int]:
        """The trader's pid now (a container's main process), or None when it is not running."""
        if isinstance(self.driver, ProcessDriver):
            pid = self.driver.pid()
            return pid if pid is not None and procs.alive(pid) else None
        pid, _ = locate(self.spec, self.spec)
        return pid

    def restart_env(self) -> Optional[Dict[str, str]]:
        """What the watchdog needs in its own environment to start it again (a process's captured environment)."""
        return self.driver.restart_env() if isinstance(self.driver, ProcessDriver) else None

    def kill(self, timeout: float = 10.0, noted: Optional[Callable[[int], None]] = None) -> int:
        """SIGKILL the trader and return its pid once it is gone (:meth:`wait_gone`); ``noted`` is told the pid
        before the signal leaves (a rollback that interrupts the wait then knows whom to wait for). TargetNotFound
        when it is not running, TargetError when it outlives ``timeout``."""
        pid = self.pid()
        if pid is None:
            raise TargetNotFound(f"{self.describe()}: the trader is not running: nothing to kill", target=self.spec)
        if noted is not None:
            noted(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            raise TargetError(f"{self.describe()}: not allowed to kill pid {pid}: {exc}", target=self.spec) from None
        self.wait_gone(pid, timeout)
        return pid

    def wait_gone(self, pid: int, timeout: float = 10.0) -> None:
        """Wait until ``pid`` (SIGKILLed) is gone (a container: once Docker says it stopped): until then it may
        still answer, and a start would find it running; TargetError when it outlives ``timeout``."""
        gone = wait_until(lambda: procs.alive(pid) or (isinstance(self.driver, DockerDriver) and
                                                       self.driver.is_running()),
                          lambda alive: not alive, timeout=timeout, interval=0.005, what=f"pid {pid} to die")
        if not gone.held:
            raise TargetError(f"{self.describe()}: pid {pid} still there {timeout:g}s after SIGKILL", target=self.spec)


def restartable(given: str, key: str) -> str:
    """``given`` (a target string) checked as a trader a crash drill can start again; ConfigError naming ``key``
    otherwise (``pid:N``: nobody could; a pod: its kubelet restarts it, not the drill)."""
    if str(given or "").strip().startswith("k8s:"):
        raise ConfigError(f"{key} {given!r}: the crash drill does not run on Kubernetes: it kills the trader and starts "
                          "it again as it ran, and a pod's container is started again by its kubelet, not by the "
                          "drill (docs/kubernetes.md)", key=key)
    spec = check_target(given, key)
    scheme = spec.partition(":")[0]
    if scheme not in RESTARTABLE:
        raise ConfigError(f"{key} {spec!r}: a crash drill must start the trader again after killing it, and "
                          f"{scheme}: names no way to; name it process:PIDFILE (started again as it ran), "
                          "docker:NAME or lab:trader", key=key)
    return spec


def trader_spec(configuration: Optional[Mapping[str, Any]] = None) -> str:
    """The trader's target string (``TARGET_PROCESS``, or the deployment description's), checked: ConfigError
    when none is given, or when it names a process nobody could start again (``pid:N``)."""
    given = value(configuration, TARGET_PROCESS)
    if not given:
        raise ConfigError("the crash drills kill the trader and start it again: set TARGET_PROCESS to "
                          "process:PIDFILE, docker:NAME or lab:trader", key="target_process")
    return restartable(given, "target_process")


def crash_target(configuration: Optional[Mapping[str, Any]] = None) -> CrashTarget:
    """The trader to kill, read while it runs (how to start it again: module docstring). ConfigError as
    :func:`trader_spec`; TargetNotFound when it is not running or the lab has no such service."""
    return target_of(trader_spec(configuration))


def target_of(spec: str) -> CrashTarget:
    """The trader ``spec`` (checked by :func:`restartable`) names, read while it runs; TargetNotFound when it is not
    running or the lab has no such service."""
    scheme, _, rest = spec.partition(":")
    if scheme == "docker":
        driver: Any = docker_driver(rest, "trader")
    elif scheme == "process":
        driver = ProcessDriver(rest)
    else:
        state = load_state()
        service = state.services.get(rest) if state is not None else None
        if service is None:
            raise TargetNotFound(f"target_process {spec!r}: no lab is up with a service {rest!r}", target=spec)
        driver = DockerDriver(service.container or service.name) if service.kind == "docker" else \
            ProcessDriver(str(service.pidfile), log=service.log, name=service.name)
    target = CrashTarget(spec, driver)
    if target.pid() is None:
        raise TargetNotFound(f"target_process {spec!r}: the trader is not running", target=spec)
    if isinstance(driver, ProcessDriver):
        driver.capture()  # how it runs now: the start after the kill repeats exactly that
    return target
