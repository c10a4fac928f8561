"""Which local process a target string names: ``lab:SERVICE`` (a lab process), ``process:PIDFILE``,
``pid:N`` or ``docker:NAME[@PROJECT]`` (the container's main process, from ``docker inspect``; with host
networking and one kernel its pid is ours to read).

:func:`locate` answers ``(pid, container)``: the pid always (None only for a container that is not
running), the container name for ``docker:``. The pause driver freezes what it names, the stress faults
find the target's cgroup and watch its process through it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

from chaosaitrapp.errors import ConfigError, TargetNotFound
from chaosaitrapp.targets.docker import docker_driver
from chaosaitrapp.targets.docker_client import explain_docker_error
from chaosaitrapp.targets.labstate import load_state
from chaosaitrapp.targets.process import read_pid

SCHEMES = ("lab", "process", "pid", "docker")


def check_target(target: str, key: str) -> str:
    """``target`` stripped, or ConfigError naming ``key`` when its scheme is not one of :data:`SCHEMES`."""
    text = str(target or "").strip()
    scheme, _, rest = text.partition(":")
    if scheme not in SCHEMES or not rest:
        raise ConfigError(f"{key} {target!r}: expected one of {', '.join(s + ':...' for s in SCHEMES)}", key=key)
    return text


def container_pid(name: str) -> Tuple[Optional[int], str]:
    """``(pid, container name)`` of the container ``docker:NAME[@PROJECT]`` names (a container name, or a
    compose service, of a project when given: as the Docker driver finds it): the host pid of its main
    process, None when it is not running. TargetNotFound for no such container, TargetError when the
    engine cannot be reached."""
    container = docker_driver(name, "").container()
    try:
        container.reload()
    except Exception as exc:
        raise explain_docker_error(f"docker:{name}", "inspect the container", exc) from None
    pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
    return pid or None, container.name


def locate(target: str, label: str = "") -> Tuple[Optional[int], Optional[str]]:
    """``(pid, container)`` of ``target`` (module docstring); ConfigError for a malformed one,
    TargetNotFound when the lab has no such process or its pidfile holds no pid."""
    scheme, _, rest = check_target(target, "target").partition(":")
    label = label or target
    if scheme == "docker":
        return container_pid(rest)
    if scheme == "pid":
        try:
            return int(rest), None
        except ValueError:
            raise ConfigError(f"target {target!r}: not a pid", key="target") from None
    if scheme == "lab":
        state = load_state()
        spec = state.services.get(rest) if state is not None else None
        if spec is None or not spec.pidfile:
            raise TargetNotFound(f"{label}: the lab has no process {rest!r}", target=target)
        pidfile = Path(spec.pidfile)
    else:
        pidfile = Path(rest)
    pid = read_pid(pidfile)
    if pid is None:
        raise TargetNotFound(f"{label}: no pid in {pidfile}", target=target)
    return pid, None
