"""Turn a target string into a driver, and a ledger ``undo`` recipe back into one.

``docker:NAME[@PROJECT]``, ``process:PIDFILE``, ``lab:NAME`` and ``auto``. ``auto`` means
``lab:<service>`` when a lab is up (``lab.json`` exists), else ``docker:<container>``.
"""
from __future__ import annotations

from typing import List, Optional

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.lab.state import load_state

SCHEMES = ("docker", "process", "lab", "auto")


def resolve_target(
    target: str,
    service: str,
    container: Optional[str] = None,
    start_command: Optional[List[str]] = None,
):
    """The driver for ``target``.

    ``service`` is the dependency's role (``redis`` or ``postgres``): it picks the lab service
    for ``auto``/``lab:`` and the readiness check. ``container`` is the container (or compose
    service) name ``auto`` falls back to (default: ``service``). ``start_command`` is needed
    only by ``process:`` targets, to start the process again.
    """
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"target must be a non-empty string like 'auto', 'lab:redis', 'docker:redis', got {target!r}")
    target = target.strip()
    scheme, _, rest = target.partition(":")
    if scheme not in SCHEMES:
        raise ConfigError(
            f"unknown target scheme {scheme!r} in {target!r}; expected one of {', '.join(s + ':' for s in SCHEMES[:3])} or 'auto'",
            target=target,
        )
    if scheme == "auto":
        if load_state() is not None:
            return resolve_target(f"lab:{service}", service)
        return resolve_target(f"docker:{container or service}", service)
    if not rest:
        raise ConfigError(f"target {target!r} names no {scheme} object after the colon", target=target)
    if scheme == "lab":
        from chaosaitrapp.targets.lab import lab_driver

        return lab_driver(rest)
    if scheme == "docker":
        from chaosaitrapp.targets.docker import DockerDriver

        name, _, project = rest.partition("@")
        return DockerDriver(name, project=project or None, check=service if service in ("redis", "postgres") else None)
    from chaosaitrapp.targets.process import ProcessDriver

    return ProcessDriver(rest, argv=start_command, check=service if service in ("redis", "postgres") else None)


def driver_from_undo(undo: dict):
    """Rebuild a driver from its ``undo()`` dict (the fault ledger's recipe)."""
    kind = undo.get("driver")
    if kind == "process":
        from chaosaitrapp.targets.process import ProcessDriver

        return ProcessDriver.from_undo(undo)
    if kind == "docker":
        from chaosaitrapp.targets.docker import DockerDriver

        return DockerDriver.from_undo(undo)
    raise ConfigError(f"undo recipe names unknown driver {kind!r}", undo_driver=kind)
