"""The target's own process, for the stress drills: where its cgroup is, whether it restarted, how much
CPU and memory it uses.

``TARGET_PROCESS`` names it (``pid:N``, ``process:PIDFILE``, ``docker:NAME``, ``lab:SERVICE``:
:func:`chaosaitrapp.targets.processref.locate`; a pod ``k8s:NAMESPACE/pod/NAME`` is read through the Kubernetes API
instead: :mod:`chaosaitrapp.targets.kubernetes.pod`), or the deployment description (the lab's names its
trader). Identity is ``(pid, start time)``: a restart (a crash and a supervisor, an OOM kill and a
container restart) shows as a different pair.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from chaosaitrapp import procs
from chaosaitrapp.config import settings_from, value
from chaosaitrapp.errors import ConfigError, TargetNotFound
from chaosaitrapp.stress.family import TARGET_PROCESS
from chaosaitrapp.targets.kubernetes.pod import is_pod, pod_ref
from chaosaitrapp.targets.processref import check_target, locate


@dataclass(frozen=True)
class TargetProcess:
    """The target's process: ``pid``, ``started`` (Unix time), what named it (``label``)."""

    pid: int
    started: float
    label: str


def target_spec(configuration: Optional[Mapping[str, Any]] = None) -> str:
    """The target string: ``TARGET_PROCESS`` (or the deployment description's: the lab's names its trader);
    ConfigError when none is known."""
    settings = settings_from(configuration)
    given = value(configuration, TARGET_PROCESS)
    if given and is_pod(given):
        pod_ref(given)  # the form, checked
        return str(given).strip()
    if given:
        return check_target(given, "target_process")
    raise ConfigError(f"the stress drills need the target's process: set TARGET_PROCESS (pid:N, process:PIDFILE, "
                      f"docker:NAME, k8s:NAMESPACE/pod/NAME) for {settings.api}", key="target_process")


def target_process(configuration: Optional[Mapping[str, Any]] = None, spec: Optional[str] = None) -> TargetProcess:
    """The target's process now (``spec``: a target string already found by :func:`target_spec`); ConfigError
    as :func:`target_spec`, TargetNotFound when it is not running."""
    spec = spec or target_spec(configuration)
    pid, _ = locate(spec, f"target process {spec}")
    started = procs.start_time(pid) if pid else None
    if pid is None or started is None:
        raise TargetNotFound(f"target process {spec}: not running (pid {pid})", target=spec)
    return TargetProcess(int(pid), float(started), spec)


def resources(pid: int, cgroup: Optional[Any] = None) -> Dict[str, Optional[float]]:
    """``{"rss_mb", "cpu_s", "cg_mem_mb"}`` of process ``pid`` now (None for what cannot be read); ``cgroup``
    (a :class:`chaosaitrapp.targets.cgroups.Cgroup`) adds its memory in use."""
    rss = procs.rss_bytes(pid)
    cg = cgroup.memory_bytes() if cgroup is not None else None
    return {"rss_mb": round(rss / 2**20, 2) if rss is not None else None, "cpu_s": procs.cpu_seconds(pid),
            "cg_mem_mb": round(cg / 2**20, 2) if cg is not None else None}
