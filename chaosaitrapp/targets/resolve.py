"""Turn a target string into a driver, and a ledger ``undo`` recipe back into one.

``docker:NAME[@PROJECT]``, ``process:PIDFILE``, ``lab:NAME`` and ``auto``. ``auto`` resolves, in
this order: to ``docker:<container>`` when the user named the container explicitly
(``REDIS_CONTAINER``/``POSTGRES_CONTAINER`` or their configuration keys: an explicit setting always
wins); to ``lab:<service>`` when a lab describes the drill's target
(:func:`chaosaitrapp.targets.labstate.lab_for`: its API is the drill's API and its trader lives);
else to ``docker:<container>`` with the seed's default name.
"""
from __future__ import annotations

from typing import List, Optional

from chaosaitrapp.errors import ConfigError

SCHEMES = ("docker", "process", "lab", "auto")


def resolve_target(
    target: str,
    service: str,
    container: Optional[str] = None,
    start_command: Optional[List[str]] = None,
    *,
    api: Optional[str] = None,
    container_explicit: bool = False,
):
    """The driver for ``target``.

    ``service`` is the dependency's role (``redis`` or ``postgres``): it picks the lab service
    for ``auto``/``lab:`` and the readiness check. ``container`` is the container (or compose
    service) name ``auto`` falls back to (default: ``service``); ``container_explicit`` says the
    user named it (then ``auto`` never picks the lab). ``api`` is the drill's API, which a lab
    must serve for ``auto`` to pick it. ``start_command`` is needed only by ``process:`` targets.
    Raises ConfigError for an unknown scheme or an empty name.
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
        if not container_explicit and api is not None:
            from chaosaitrapp.targets.labstate import lab_for

            if lab_for(api) is not None:
                return resolve_target(f"lab:{service}", service)
        return resolve_target(f"docker:{container or service}", service)
    if not rest:
        raise ConfigError(f"target {target!r} names no {scheme} object after the colon", target=target)
    check = service if service in ("redis", "postgres") else None
    if scheme == "lab":
        from chaosaitrapp.targets.lab import lab_driver

        return lab_driver(rest)
    if scheme == "docker":
        from chaosaitrapp.targets.docker import DockerDriver

        name, _, project = rest.partition("@")
        return DockerDriver(name, project=project or None, check=check)
    from chaosaitrapp.targets.process import ProcessDriver

    return ProcessDriver(rest, argv=start_command, check=check)


def driver_from_undo(undo: dict):
    """Rebuild a driver from its ``undo()`` dict (the fault ledger's recipe); ConfigError for an unknown kind."""
    kind = undo.get("driver")
    if kind == "process":
        from chaosaitrapp.targets.process import ProcessDriver

        return ProcessDriver.from_undo(undo)
    if kind == "docker":
        from chaosaitrapp.targets.docker import DockerDriver

        return DockerDriver.from_undo(undo)
    if kind in ("broker_proxy", "net_proxy"):
        from chaosaitrapp.faultproxy.client import ProxyFaultDriver

        return ProxyFaultDriver.from_undo(undo)
    if kind == "pause":
        from chaosaitrapp.targets.pause import PauseDriver

        return PauseDriver.from_undo(undo)
    if kind == "stress":
        from chaosaitrapp.stress.stressor import StressDriver

        return StressDriver.from_undo(undo)
    if kind == "nft":
        from chaosaitrapp.network.kernel import KernelRuleDriver

        return KernelRuleDriver.from_undo(undo)
    raise ConfigError(f"undo recipe names unknown driver {kind!r}", undo_driver=kind)
