"""Turn a target string into a driver (a ledger ``undo`` recipe is turned back into one by
:func:`chaosaitrapp.registry.driver_from_undo`).

``docker:NAME[@PROJECT]``, ``process:PIDFILE``, ``lab:NAME``, ``k8s:NAMESPACE/KIND/NAME`` and ``auto``. ``auto`` resolves, in
this order: to ``docker:<container>`` when the user named the container explicitly
(``REDIS_CONTAINER``/``POSTGRES_CONTAINER`` or their configuration keys: an explicit setting always
wins); to ``lab:<service>`` when a lab describes the drill's target
(:func:`chaosaitrapp.targets.labstate.lab_for`: its API is the drill's API and its trader lives);
else to ``docker:<container>`` with the seed's default name.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from chaosaitrapp import registry
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.targets.labstate import lab_for

#: The target kinds that can stop and start a dependency (:data:`chaosaitrapp.registry.TARGET_KINDS`), and ``auto``.
SCHEMES = tuple(k.scheme for k in registry.TARGET_KINDS if k.driver) + ("auto",)


def restart_recipe(target: Optional[str]) -> Optional[dict]:
    """How to start again the process a target string names (``lab:NAME``, ``process:PIDFILE``: as it runs
    now; ``docker:NAME[@PROJECT]``: its container), as a ledger undo recipe (no secret in it); None for no
    target. ConfigError for another scheme, TargetNotFound when the process is not there to be read."""
    if not target:
        return None
    scheme, _, rest = str(target).partition(":")
    if scheme not in ("lab", "process", "docker") or not rest:
        raise ConfigError(f"{target!r}: a restartable process is named lab:NAME, process:PIDFILE or docker:NAME",
                          target=target)
    return resolve_target(target, "").undo()


def resolve_target(
    target: str,
    service: str,
    container: Optional[str] = None,
    *,
    api: Optional[str] = None,
    container_explicit: bool = False,
    configuration: Optional[Mapping[str, Any]] = None,
):
    """The driver for ``target``.

    ``service`` is the dependency's role (``redis`` or ``postgres``): it picks the lab service
    for ``auto``/``lab:`` and the readiness check. ``container`` is the container (or compose
    service) name ``auto`` falls back to (default: ``service``); ``container_explicit`` says the
    user named it (then ``auto`` never picks the lab). ``api`` is the drill's API, which a lab
    must serve for ``auto`` to pick it. The driver comes from the scheme's target kind
    (:data:`chaosaitrapp.registry.TARGET_KINDS`), and passes its guard (``configuration``: the drill's; a
    Kubernetes target outside the drill's namespace is refused here, before any call). Raises ConfigError for an
    unknown scheme, an empty name or a target the guard refuses.
    """
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"target must be a non-empty string like 'auto', 'lab:redis', 'docker:redis', got {target!r}")
    target = target.strip()
    scheme, _, rest = target.partition(":")
    if scheme not in SCHEMES:
        raise ConfigError(
            f"unknown target scheme {scheme!r} in {target!r}; expected one of {', '.join(s + ':' for s in SCHEMES[:-1])} or 'auto'",
            target=target,
        )
    if scheme == "auto":
        if not container_explicit and api is not None:
            if lab_for(api) is not None:
                return resolve_target(f"lab:{service}", service)
        return resolve_target(f"docker:{container or service}", service)
    if not rest:
        raise ConfigError(f"target {target!r} names no {scheme} object after the colon", target=target)
    kind = registry.target_kind(scheme)
    driver = registry.resolve(kind.driver)(rest, service)
    if kind.guard:
        registry.resolve(kind.guard)(driver, configuration)
    return driver
